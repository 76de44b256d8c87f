# Run at every build (the build_info_values target): writes the commit this tree was built from
# into ONE small generated .cpp, rewritten only when its text changes, so a new commit recompiles
# that file and relinks the binaries, never the rest (ccache stays effective).
# In: SOURCE_DIR, TEMPLATE, OUTPUT, VERSION, BUILD_TYPE.
set(TOKENLEDGER_COMMIT "unknown")
find_program(GIT_PROGRAM git)
if(GIT_PROGRAM)
  execute_process(COMMAND ${GIT_PROGRAM} -C ${SOURCE_DIR} rev-parse --show-toplevel
                  OUTPUT_VARIABLE top RESULT_VARIABLE top_rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  file(REAL_PATH "${SOURCE_DIR}" source_real)
  if(top_rc EQUAL 0)
    file(REAL_PATH "${top}" top_real)
  endif()
  # Only this project's own repository counts: a source tarball unpacked inside some other
  # repository is "unknown", not that repository's commit.
  if(top_rc EQUAL 0 AND top_real STREQUAL source_real)
    execute_process(COMMAND ${GIT_PROGRAM} -C ${SOURCE_DIR} rev-parse --short=12 HEAD
                    OUTPUT_VARIABLE commit RESULT_VARIABLE commit_rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(commit_rc EQUAL 0 AND commit)
      set(TOKENLEDGER_COMMIT "${commit}")
      execute_process(COMMAND ${GIT_PROGRAM} -C ${SOURCE_DIR} status --porcelain --untracked-files=no
                      OUTPUT_VARIABLE changes RESULT_VARIABLE status_rc ERROR_QUIET)
      if(NOT status_rc EQUAL 0 OR changes)
        set(TOKENLEDGER_COMMIT "${commit}-dirty")
      endif()
    endif()
  endif()
endif()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE "none")
endif()
set(TOKENLEDGER_VERSION "${VERSION}")
set(TOKENLEDGER_BUILD_TYPE "${BUILD_TYPE}")
configure_file(${TEMPLATE} ${OUTPUT} @ONLY)
