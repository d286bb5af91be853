# Runs PROGRAM with an SQLite file database in a fresh WORKDIR, twice (a rerun on the same file
# must print the same), and compares its standard output with the GOLDEN file.
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")
file(READ "${GOLDEN}" expected)
foreach(run first second)
  execute_process(COMMAND "${PROGRAM}" "sqlite:///${WORKDIR}/app.db"
                  WORKING_DIRECTORY "${WORKDIR}"
                  OUTPUT_VARIABLE actual ERROR_VARIABLE errors RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${run} run exited with ${status}\nstderr:\n${errors}\nstdout:\n${actual}")
  endif()
  if(NOT actual STREQUAL expected)
    file(WRITE "${WORKDIR}/actual.txt" "${actual}")
    execute_process(COMMAND diff -u "${GOLDEN}" "${WORKDIR}/actual.txt" OUTPUT_VARIABLE d)
    message(FATAL_ERROR "${run} run: output differs from ${GOLDEN}:\n${d}")
  endif()
endforeach()
