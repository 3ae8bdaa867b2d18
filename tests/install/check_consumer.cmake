# One step of the install tests (tests/install/CMakeLists.txt):
#   cmake -DMODE=<mode> -DSOURCE=<vitrt> -DBUILD=<dir> -DPREFIX=<dir> -DMODEL=<file> ... -P this
#   install           a fresh `cmake --install BUILD --prefix PREFIX`
#   find_package      tests/consumer (C only) against PREFIX
#   schema            the same plus its C++ model-file reader (vitrt::schema)
#   add_subdirectory  tests/consumer with SOURCE as a subdirectory, which must
#                     build the runtime core alone (no tests, no host tools)
#   pkg-config        main.c compiled and linked by hand with `pkg-config --static`
# Each consumer then runs on MODEL and must print this version and a top class.

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGV}")
    message(FATAL_ERROR "${cmd}\nfailed (${rc}):\n${out}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

if(MODE STREQUAL "install")
  file(REMOVE_RECURSE ${PREFIX})
  run(${CMAKE_COMMAND} --install ${BUILD} --prefix ${PREFIX})
  foreach(_file include/vitrt/vitrt.h include/vitrt/vitrt_generated.h
                include/vitrt/third_party/flatbuffers/flatbuffers.h ${LIBDIR}/libvitrt.a
                ${LIBDIR}/libvitrt_platform.a ${LIBDIR}/cmake/vitrt/vitrtConfig.cmake
                ${LIBDIR}/cmake/vitrt/vitrtConfigVersion.cmake ${LIBDIR}/pkgconfig/vitrt.pc)
    if(NOT EXISTS ${PREFIX}/${_file})
      message(FATAL_ERROR "cmake --install did not install ${_file}")
    endif()
  endforeach()
  return()
endif()

set(_configure ${CMAKE_COMMAND} -S ${SOURCE}/tests/consumer -B ${BUILD} -G ${GENERATOR}
    -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
if(MAKE_PROGRAM)
  list(APPEND _configure -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
set(_exes ${BUILD}/vitrt-consumer)
if(MODE STREQUAL "find_package" OR MODE STREQUAL "schema")
  list(APPEND _configure -DCMAKE_PREFIX_PATH=${PREFIX})
  if(MODE STREQUAL "schema")
    list(APPEND _configure -DVITRT_CONSUMER_SCHEMA=ON)
    list(APPEND _exes ${BUILD}/vitrt-consumer-schema)
  endif()
  run(${_configure})
  run(${CMAKE_COMMAND} --build ${BUILD} --parallel 2)
elseif(MODE STREQUAL "add_subdirectory")
  # No build type: the runtime compiles unoptimized, the quickest build.
  run(${_configure} -DVITRT_SOURCE_DIR=${SOURCE})
  run(${CMAKE_COMMAND} --build ${BUILD} --parallel 2)
  foreach(_dir host converter samples bench tests)
    if(EXISTS ${BUILD}/vitrt/${_dir})
      message(FATAL_ERROR "vitrt as a subdirectory configured ${_dir}/: only the core should build")
    endif()
  endforeach()
elseif(MODE STREQUAL "pkg-config")
  # This prefix's vitrt.pc only, not one installed on the system.
  set(ENV{PKG_CONFIG_LIBDIR} ${PREFIX}/${LIBDIR}/pkgconfig)
  unset(ENV{PKG_CONFIG_PATH})
  run(${PKG_CONFIG} --modversion vitrt)
  string(STRIP "${out}" _version)
  if(NOT _version STREQUAL VERSION)
    message(FATAL_ERROR "vitrt.pc says version ${_version}, the project ${VERSION}")
  endif()
  run(${PKG_CONFIG} --cflags --libs --static vitrt)
  separate_arguments(_flags UNIX_COMMAND "${out}")
  file(MAKE_DIRECTORY ${BUILD})
  run(${C_COMPILER} -std=c11 -Wall -Wextra -Werror ${SOURCE}/tests/consumer/main.c ${_flags}
      -o ${BUILD}/vitrt-consumer)
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()

string(REPLACE "." "\\." _version_re "${VERSION}")
foreach(_exe IN LISTS _exes)
  run(${_exe} ${MODEL})
  message("${out}")
  if(NOT out MATCHES "^vitrt ${_version_re} \\([a-z0-9]+ kernels\\), arena [0-9]+ bytes: top class [0-9]+ "
     AND NOT out MATCHES "^schema: 1x28x28 input, depth 4, ")
    message(FATAL_ERROR "${_exe}: unexpected output")
  endif()
endforeach()
