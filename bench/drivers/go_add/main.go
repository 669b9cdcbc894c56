// Figure 6 of issue 6 (bench/figures/06_bindings.py): times Batch.Add of every body in
// BODIES_FILE (one JSON text per line, read first) through the Go binding; no network.
//
//	goadd BODIES_FILE WORK_DIR
//
// Prints {"requests":N,"seconds":S,"per_s":R}. Built by the figure with the environment
// of bindings/go/CMakeLists.txt (pkg-config file of the build tree, offline).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"time"

	obatch "github.com/obatch/obatch/bindings/go"
)

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: goadd BODIES_FILE WORK_DIR")
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	var bodies []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			bodies = append(bodies, line)
		}
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	f.Close()
	// 50,000 per batch (OpenAI's limit); batches made and closed outside the timing.
	var spent time.Duration
	for start := 0; start < len(bodies); start += 50000 {
		end := min(start+50000, len(bodies))
		b, err := obatch.New(obatch.WithProvider("openai"), obatch.WithWorkDir(os.Args[2]))
		if err != nil {
			log.Fatal(err)
		}
		t0 := time.Now()
		for _, body := range bodies[start:end] {
			if _, err := b.Add(body); err != nil {
				log.Fatal(err)
			}
		}
		spent += time.Since(t0)
		b.Close()
	}
	s := spent.Seconds()
	out, _ := json.Marshal(map[string]any{"requests": len(bodies), "seconds": s,
		"per_s": float64(len(bodies)) / s})
	fmt.Println(string(out))
}
