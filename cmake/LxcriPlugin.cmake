# lxcri_add_plugin(NAME <name> KIND backend|mapping SOURCES <files...>
#                  [LIBRARIES <libraries...>])
#
# Builds lxcri-<kind>-<name>.so with hidden visibility against lxcri::sdk and
# installs it into the plugin directory. The same file serves two callers:
#
# - this source tree (include(cmake/LxcriPlugin.cmake)): the plugin goes to
#   the build tree's plugin directory, LXCRI_PLUGIN_OUTPUT_DIR, which the
#   freshly built core searches, so a build runs with no flags;
# - an out-of-tree plugin (find_package(ProxmoxLxcri), which includes this
#   file): the plugin goes to LXCRI_PLUGIN_OUTPUT_DIR if the project sets it,
#   else <build dir>/plugins, for `proxmox-lxcri --plugin-dir`; `cmake
#   --install` puts it in LXCRI_INSTALL_PLUGINDIR, by default
#   <prefix>/<libdir>/proxmox-lxcri/plugins (the core's own directory when the
#   prefix is the core's, e.g. /usr).
function(lxcri_add_plugin)
  cmake_parse_arguments(P "" "NAME;KIND" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT P_NAME OR NOT P_KIND OR NOT P_SOURCES)
    message(FATAL_ERROR "lxcri_add_plugin: NAME, KIND and SOURCES are required")
  endif()
  if(NOT P_KIND MATCHES "^(backend|mapping)$")
    message(FATAL_ERROR "lxcri_add_plugin: KIND must be backend or mapping, not '${P_KIND}'")
  endif()
  if(NOT P_NAME MATCHES "^[a-z0-9][a-z0-9_-]*$")
    message(FATAL_ERROR "lxcri_add_plugin: NAME '${P_NAME}' must match [a-z0-9][a-z0-9_-]* (it becomes a file name)")
  endif()
  if(NOT TARGET lxcri::sdk)
    message(FATAL_ERROR "lxcri_add_plugin: no target lxcri::sdk; call find_package(ProxmoxLxcri REQUIRED) first")
  endif()

  set(output_dir ${CMAKE_BINARY_DIR}/plugins)
  if(DEFINED LXCRI_PLUGIN_OUTPUT_DIR)
    set(output_dir ${LXCRI_PLUGIN_OUTPUT_DIR})
  endif()

  set(target lxcri-${P_KIND}-${P_NAME})
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE lxcri::sdk ${P_LIBRARIES})
  target_compile_features(${target} PRIVATE cxx_std_20)
  # A plugin is a shared object in the library directory, and Debian's
  # policy (lintian: library-not-linked-against-libc) wants it to name libc,
  # also when it calls libc only through libstdc++ (the mapping plugins do);
  # --as-needed, Debian's default, would leave libc out.
  target_link_options(${target} PRIVATE "LINKER:--push-state,--no-as-needed,-lc,--pop-state")
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${target}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${output_dir})

  # In this tree liblxcri-core sits two levels up from the plugin directory,
  # built and installed. Out of tree the plugin needs no RUNPATH: the core
  # that dlopens it has already loaded liblxcri-core. The built plugin gets
  # the installed RUNPATH, which the install then copies unchanged: one that
  # CMake rewrites at install ends in an empty element, the current
  # directory, where ld.so would look for what the plugin loads (liblxc).
  set_target_properties(${target} PROPERTIES BUILD_WITH_INSTALL_RPATH ON)
  get_target_property(sdk_imported lxcri::sdk IMPORTED)
  if(NOT sdk_imported)
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/../..")
  endif()
  set_property(GLOBAL APPEND PROPERTY LXCRI_PLUGIN_TARGETS ${target})

  if(DEFINED LXCRI_INSTALL_PLUGINDIR)
    set(install_dir ${LXCRI_INSTALL_PLUGINDIR})
  else()
    include(GNUInstallDirs)
    set(install_dir ${CMAKE_INSTALL_LIBDIR}/proxmox-lxcri/plugins)
  endif()
  install(TARGETS ${target} LIBRARY DESTINATION ${install_dir} COMPONENT runtime
          PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endfunction()
