# DocflowExecutor.cmake: docflow_add_executor(name SOURCES a.c ... [OUTPUT_DIR dir])
# builds an executor module <name>.so against the ABI header alone.
#
# The same function serves the in-tree built-ins and out-of-tree executors
# (installed as part of the docflow CMake package). Plugins link nothing of
# docflow: --no-undefined turns a stray call to a host symbol into a link
# error instead of a load-time surprise, -z now binds eagerly although libltdl
# opens lazily, and hidden visibility leaves docflow_plugin_v1 (marked by
# DF_PLUGIN_EXPORT) as the one exported symbol.
function(docflow_add_executor name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIR" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "docflow_add_executor(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden
                        C_STANDARD 11)
  if(TARGET docflow::headers)
    target_link_libraries(${name} PRIVATE docflow::headers)
  else()
    target_include_directories(${name} PRIVATE ${DOCFLOW_INCLUDE_DIR})
  endif()
  # Sanitizer builds leave runtime symbols undefined in modules; the
  # executable brings the runtime, so --no-undefined only applies without it.
  if(NOT DOCFLOW_SANITIZE)
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
  target_link_options(${name} PRIVATE -Wl,-z,now)
  if(ARG_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR})
  endif()
endfunction()
