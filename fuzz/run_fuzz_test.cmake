# One fuzz.<target> CTest entry (fuzz/CMakeLists.txt):
#   cmake -DFUZZER=exe -DSEEDS=dir -DWORK=dir -DSECONDS=n [-DDICT=-dict=file] -P run_fuzz_test.cmake
# Copies the seed corpus to WORK/corpus (libFuzzer adds what it finds there,
# never to the source tree), runs every seed, then fuzzes for SECONDS. Fails
# on any crash, sanitizer report, leak, timeout or out-of-memory; the input
# is saved in WORK/artifacts/ (crash-*, leak-*, timeout-*, oom-*).
foreach(var FUZZER SEEDS WORK SECONDS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzz_test.cmake: -D${var}=... is missing")
  endif()
endforeach()
if(NOT IS_DIRECTORY "${SEEDS}")
  message(FATAL_ERROR "no seed corpus at ${SEEDS}")
endif()

file(REMOVE_RECURSE "${WORK}/corpus")
file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/artifacts")
file(GLOB seeds "${SEEDS}/*")
list(LENGTH seeds seed_count)
if(seed_count EQUAL 0)
  message(FATAL_ERROR "the seed corpus ${SEEDS} is empty")
endif()
file(COPY ${seeds} DESTINATION "${WORK}/corpus")

set(args
  -max_total_time=${SECONDS}
  -timeout=10
  -rss_limit_mb=2048
  -print_final_stats=1
  "-artifact_prefix=${WORK}/artifacts/")
if(DICT)
  list(APPEND args "${DICT}")
endif()
string(JOIN " " shown ${args})
message(STATUS "${FUZZER} ${shown} ${WORK}/corpus (${seed_count} seeds)")
execute_process(COMMAND "${FUZZER}" ${args} "${WORK}/corpus" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(GLOB found "${WORK}/artifacts/*")
  message(FATAL_ERROR
    "${FUZZER} failed (${rc}); the input that failed: ${found}\n"
    "Reproduce: ${FUZZER} <that file>   (fuzz/README.md)")
endif()
