# Runs PROGRAM with ARG and expects a non-zero exit and a one-line message on stderr matching
# EXPECT (a user error must be reported, not crash or pass silently).
execute_process(COMMAND "${PROGRAM}" "${ARG}"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status)
if(status EQUAL 0)
  message(FATAL_ERROR "expected a failure for '${ARG}', got exit 0\nstdout:\n${out}")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "stderr does not match '${EXPECT}':\n${err}")
endif()
string(STRIP "${err}" stripped)
if(stripped MATCHES "\n")
  message(FATAL_ERROR "expected a one-line error, got:\n${err}")
endif()
