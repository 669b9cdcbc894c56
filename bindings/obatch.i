/*
 * The one SWIG interface of obatch: the raw layer for every binding.
 * It wraps the public C API (include/obatch/obatch.h) and nothing else.
 * What is the same for every language is here; each language's typemaps and
 * shims live in its own file, included below, owned by that binding.
 */
%module obatch

%{
#include "obatch/obatch.h"
%}

#if defined(SWIGJAVASCRIPT)
%include "node/obatch_node.i"
#elif defined(SWIGGO)
%include "go/obatch_go.i"
#elif defined(SWIGRUBY)
%include "ruby/obatch_ruby.i"
#else
#error "obatch.i: a binding for this language is not written yet"
#endif
