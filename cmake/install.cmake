# Install rules (`cmake --install BUILD [--prefix DIR]`): runtime/, platforms/
# and schema/ install their own libraries and headers into the export set
# vitrtTargets; here the CMake package (vitrt::vitrt), vitrt.pc, the host
# tools and the licenses.
include(CMakePackageConfigHelpers)

set(_vitrt_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/vitrt)
install(EXPORT vitrtTargets NAMESPACE vitrt:: DESTINATION ${_vitrt_cmake_dir})
configure_package_config_file(cmake/vitrtConfig.cmake.in ${PROJECT_BINARY_DIR}/vitrtConfig.cmake
                              INSTALL_DESTINATION ${_vitrt_cmake_dir})
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vitrtConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vitrtConfig.cmake ${PROJECT_BINARY_DIR}/vitrtConfigVersion.cmake
        DESTINATION ${_vitrt_cmake_dir})

# vitrt.pc. The libraries are static, so their own dependencies are in
# Libs.private (`pkg-config --static --libs vitrt`): libXNNPACK when built
# with it, the C++ runtime (runtime/CMakeLists.txt) and libm, so that a C
# program links with the C compiler. Paths start at the .pc file's own
# directory: an install with --prefix DIR needs no reconfigure.
set(_vitrt_libs_private)
if(VITRT_WITH_XNNPACK)
  list(APPEND _vitrt_libs_private -lXNNPACK)
endif()
foreach(_lib IN LISTS VITRT_CXX_RUNTIME_LIBS ITEMS m)
  if(IS_ABSOLUTE ${_lib})
    list(APPEND _vitrt_libs_private ${_lib})
  else()
    list(APPEND _vitrt_libs_private -l${_lib})
  endif()
endforeach()
list(REMOVE_DUPLICATES _vitrt_libs_private)
list(JOIN _vitrt_libs_private " " VITRT_PC_LIBS_PRIVATE)
file(RELATIVE_PATH VITRT_PC_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" VITRT_PC_PREFIX "${VITRT_PC_PREFIX}")
file(RELATIVE_PATH VITRT_PC_INCLUDEDIR ${CMAKE_INSTALL_PREFIX} ${CMAKE_INSTALL_FULL_INCLUDEDIR})
configure_file(cmake/vitrt.pc.in ${PROJECT_BINARY_DIR}/vitrt.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/vitrt.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

foreach(_tool vitrt-convert vitrt-run vitrt-bench vitrt-eval)
  if(TARGET ${_tool})
    install(TARGETS ${_tool})
  endif()
endforeach()
install(FILES LICENSE THIRD_PARTY_NOTICES.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
