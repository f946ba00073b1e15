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

# docflow_builtin_executor(name FOLDER folder SOURCES a.c ... [LIBS lib ...]):
# one of docflow's own executors (plugins/<folder>), which builds two ways.
# Inside docflow's tree (DOCFLOW_PLUGIN_BUILD_DIR set by the top-level build)
# the library lands beside the other built-ins and is installed with them.
# Alone, as a hub package (`docflow-hub build plugins/<folder>` runs cmake in
# the folder after its own project() and find_package(docflow)), it is built
# into lib/ of the folder, where config.yml's metas.library names it, with the
# flags of docflow's own build, and installs nothing (docflow-hub does).
function(docflow_builtin_executor name)
  cmake_parse_arguments(ARG "" "FOLDER" "SOURCES;LIBS" ${ARGN})
  if(DEFINED DOCFLOW_PLUGIN_BUILD_DIR)
    set(output_dir ${DOCFLOW_PLUGIN_BUILD_DIR})
  else()
    set(output_dir ${CMAKE_CURRENT_SOURCE_DIR}/lib)
  endif()
  docflow_add_executor(${name} SOURCES ${ARG_SOURCES} OUTPUT_DIR ${output_dir})
  if(ARG_LIBS)
    target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  endif()
  if(NOT DEFINED DOCFLOW_PLUGIN_BUILD_DIR)
    set_target_properties(${name} PROPERTIES C_EXTENSIONS OFF)
    target_compile_options(${name} PRIVATE -Wall -Wextra -Werror -Wno-format-truncation)
    target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
    return()
  endif()
  install(TARGETS ${name} LIBRARY DESTINATION ${DOCFLOW_PLUGIN_SUBDIR})
  install(FILES config.yml README.md manifest.yml
          DESTINATION ${CMAKE_INSTALL_DATADIR}/docflow/plugins/${ARG_FOLDER})
endfunction()
