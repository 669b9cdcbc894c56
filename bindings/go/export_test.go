package obatch

// LiveHandles is how many batch handles are not freed yet.
func LiveHandles() int64 { return live.Load() }
