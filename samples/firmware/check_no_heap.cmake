# cmake -DNM=<nm> -DLIBS=<a;b> -P check_no_heap.cmake
# Fails when an archive references the heap, C++ exceptions or RTTI: the
# runtime promises none of them, and on a microcontroller any of these
# pulls in an allocator or unwinder the firmware may not have.
set(forbidden "^(malloc|calloc|realloc|free|_Zn[wa][jm].*|_Zd[la]Pv.*|__cxa_allocate_exception|__cxa_throw|_ZSt[0-9]+__throw_.*|_ZTI.*|__dynamic_cast)$")
foreach(lib IN LISTS LIBS)
  execute_process(COMMAND "${NM}" --undefined-only --format=just-symbols "${lib}"
                  OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${lib}")
  endif()
  string(REPLACE "\n" ";" symbols "${symbols}")
  foreach(sym IN LISTS symbols)
    if(sym MATCHES "${forbidden}")
      list(APPEND found "${sym}")
    endif()
  endforeach()
  if(found)
    list(REMOVE_DUPLICATES found)
    message(FATAL_ERROR "${lib} references heap/exception/RTTI symbols: ${found}")
  endif()
endforeach()
message(STATUS "no heap, exception or RTTI references in: ${LIBS}")
