# lxcri_add_plugin(NAME <name> KIND backend|mapping SOURCES <files...>)
#
# Builds lxcri-<kind>-<name>.so with hidden visibility into the plugin
# directory the core searches, so a freshly built tree runs with no flags.
function(lxcri_add_plugin)
  cmake_parse_arguments(P "" "NAME;KIND" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT P_NAME OR NOT P_KIND OR NOT P_SOURCES)
    message(FATAL_ERROR "lxcri_add_plugin: NAME, KIND and SOURCES are required")
  endif()
  if(NOT P_KIND MATCHES "^(backend|mapping)$")
    message(FATAL_ERROR "lxcri_add_plugin: KIND must be backend or mapping, not '${P_KIND}'")
  endif()
  set(target lxcri-${P_KIND}-${P_NAME})
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE lxcri::sdk ${P_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${target}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${LXCRI_PLUGIN_OUTPUT_DIR}
    BUILD_RPATH "$ORIGIN/../.."
    INSTALL_RPATH "$ORIGIN/../..")
  set_property(GLOBAL APPEND PROPERTY LXCRI_PLUGIN_TARGETS ${target})
  if(DEFINED LXCRI_INSTALL_PLUGINDIR)
    install(TARGETS ${target} LIBRARY DESTINATION ${LXCRI_INSTALL_PLUGINDIR} COMPONENT runtime)
  endif()
endfunction()

