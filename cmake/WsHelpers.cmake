# Project-wide helpers: one place for warnings and sanitizer flags.

function(ws_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion)
  if(WS_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

macro(ws_apply_sanitizers)
  if(WS_SANITIZE)
    # Debug info level comes from the build type (the presets use -g1: line tables, quick builds).
    add_compile_options(-fsanitize=${WS_SANITIZE} -fno-omit-frame-pointer)
    add_link_options(-fsanitize=${WS_SANITIZE})
    if(WS_SANITIZE MATCHES "undefined")
      # vptr is off: oneTBB's flow-graph headers static_cast task objects (forward_task_bypass)
      # in a way the vptr check flags in TBB's own code (_flow_graph_impl.h), on every run.
      add_compile_options(-fno-sanitize-recover=undefined -fno-sanitize=vptr)
    endif()
    if(WS_SANITIZE MATCHES "thread")
      # Debian's libtbb is not built with TSan. With profiling tools at level 2 the TBB headers
      # report every task hand-off (spawn, wait, aggregator, queue) through ITT; the bridge in
      # tests/tsan turns those reports into TSan acquire/release (see tbb_tsan_bridge.c).
      add_compile_definitions(TBB_USE_PROFILING_TOOLS=2)
    endif()
  endif()
endmacro()
