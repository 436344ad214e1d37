# The shared library exports exactly the public API (DESIGN §8): the functions that the
# public headers declare ZCP_API, no internal zcp__ function and nothing of protobuf-c.
#
# Reads every include/zcpool/*.h (comments, preprocessor lines and struct/enum bodies
# taken out, what is left cut at each ';'), takes each top-level declaration of a zcp_
# function, and compares the ones marked ZCP_API with `nm -D --defined-only` of the
# library, both ways. A public function declared without ZCP_API is reported too: it
# would be hidden.
#
#   cmake -DNM=<nm> -DLIB=<libzcpool.so> -DINCLUDE=<include/zcpool> -P exports.cmake
cmake_minimum_required(VERSION 3.20)
if(NOT NM OR NOT LIB OR NOT INCLUDE)
  message(FATAL_ERROR "exports: set -DNM=<nm> -DLIB=<library> -DINCLUDE=<header dir>")
endif()

# Text of a header with /* */ comments replaced by a space.
function(strip_comments text out)
  set(left "${text}")
  set(kept "")
  while(TRUE)
    string(FIND "${left}" "/*" a)
    if(a EQUAL -1)
      break()
    endif()
    string(SUBSTRING "${left}" 0 ${a} head)
    string(APPEND kept "${head} ")
    math(EXPR a "${a} + 2")
    string(SUBSTRING "${left}" ${a} -1 left)
    string(FIND "${left}" "*/" b)
    if(b EQUAL -1)
      message(FATAL_ERROR "exports: unterminated comment")
    endif()
    math(EXPR b "${b} + 2")
    string(SUBSTRING "${left}" ${b} -1 left)
  endwhile()
  set(${out} "${kept}${left}" PARENT_SCOPE)
endfunction()

file(GLOB headers ${INCLUDE}/*.h)
set(declared)   # every public zcp_ function
set(marked)     # those declared ZCP_API
set(problems)
foreach(h IN LISTS headers)
  get_filename_component(hname ${h} NAME)
  file(READ ${h} text)
  strip_comments("${text}" text)
  string(REGEX REPLACE "//[^\n]*" "" text "${text}")
  string(REPLACE "\\\n" " " text "${text}")                       # continued lines
  string(REGEX REPLACE "(^|\n)[ \t]*#[^\n]*" "\\1" text "${text}")  # directives
  string(REPLACE "extern \"C\" {" "" text "${text}")
  # Struct, union and enum bodies, innermost first; then the C++ guard's lone brace.
  set(before "")
  while(NOT before STREQUAL text)
    set(before "${text}")
    string(REGEX REPLACE "[{][^{}]*[}]" "" text "${text}")
  endwhile()
  string(REPLACE "}" ";" text "${text}")
  string(REGEX MATCHALL "[^;]+" statements "${text}")
  foreach(s IN LISTS statements)
    string(STRIP "${s}" s)
    if(s MATCHES "^typedef[^A-Za-z0-9_]")
      continue()
    endif()
    if(NOT s MATCHES "^[^(]*[^A-Za-z0-9_](zcp_[A-Za-z0-9_]+)[ \t\n]*[(]")
      continue()
    endif()
    set(name ${CMAKE_MATCH_1})
    list(APPEND declared ${name})
    if(s MATCHES "(^|[^A-Za-z0-9_])ZCP_API[^A-Za-z0-9_]")
      list(APPEND marked ${name})
      if(name MATCHES "^zcp__")
        list(APPEND problems "${hname}: ${name} is an internal name (zcp__) marked ZCP_API")
      endif()
    else()
      list(APPEND problems "${hname}: ${name} is declared without ZCP_API (it is hidden)")
    endif()
  endforeach()
endforeach()

execute_process(COMMAND ${NM} -D --defined-only ${LIB} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "exports: ${NM} -D --defined-only ${LIB} exited ${rc}: ${err}")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${out}")
set(exported)
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^.*[ \t]" "" sym "${line}")
  list(APPEND exported ${sym})
endforeach()

list(LENGTH marked nmarked)
list(LENGTH exported nexported)
if(nmarked EQUAL 0 OR nexported EQUAL 0)
  message(FATAL_ERROR "exports: found ${nmarked} ZCP_API functions in ${INCLUDE} and "
                      "${nexported} exported symbols in ${LIB}: the check itself is broken")
endif()
foreach(sym IN LISTS exported)
  if(NOT sym IN_LIST marked)
    list(APPEND problems "exported but not declared ZCP_API in a public header: ${sym}")
  endif()
endforeach()
foreach(name IN LISTS marked)
  if(NOT name IN_LIST exported)
    list(APPEND problems "declared ZCP_API but not exported by the library: ${name}")
  endif()
endforeach()

if(problems)
  list(LENGTH problems n)
  string(REPLACE ";" "\n  " text "${problems}")
  message(FATAL_ERROR "exports: ${n} differences\n  ${text}")
endif()
message("exports: ${nexported} symbols exported, the same as the ${nmarked} ZCP_API functions")
