# The site matrix (DESIGN §9): every protocol call site is needed.
#
# Runs the emulated proof tests of the sharing test binary (cluster_share, the tests named
# emulated_*) under the non-coherent emulator, keep-stale policy (a page stays stale until
# it is invalidated, so a missing step fails the same way every time): first with every
# site on, which must pass, then once per site with that one site switched off
# (ZCP_DISABLE_SITE), which must fail an assertion: not crash, hang or trip a sanitizer.
#
# The list of sites comes from the binary (`--list-sites`, the library's zcp__site_names),
# and is checked against the sources both ways: every zcp__site_enabled("name") in src/ is
# listed, and every listed name is asked somewhere.
#
#   cmake -DBIN=<cluster_share test binary> -DSRC=<source tree> -P site_matrix.cmake
cmake_minimum_required(VERSION 3.20)
if(NOT BIN OR NOT SRC)
  message(FATAL_ERROR "site_matrix: set -DBIN=<test binary> and -DSRC=<source tree>")
endif()

execute_process(COMMAND ${BIN} --list-sites RESULT_VARIABLE rc OUTPUT_VARIABLE listed
                ERROR_VARIABLE listed_err TIMEOUT 60)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "site_matrix: ${BIN} --list-sites exited ${rc}: ${listed_err}")
endif()
string(STRIP "${listed}" listed)
string(REPLACE "\n" ";" sites "${listed}")
list(LENGTH sites nsites)
if(nsites EQUAL 0)
  message(FATAL_ERROR "site_matrix: the library lists no sites")
endif()

# The names the sources ask for.
file(GLOB_RECURSE sources ${SRC}/src/*.c)
set(asked)
foreach(f ${sources})
  file(STRINGS ${f} lines REGEX "zcp__site_enabled\\(\"")
  foreach(line IN LISTS lines)
    string(REGEX MATCHALL "zcp__site_enabled\\(\"[^\"]+\"\\)" calls "${line}")
    foreach(c IN LISTS calls)
      string(REGEX REPLACE "zcp__site_enabled\\(\"([^\"]+)\"\\)" "\\1" name "${c}")
      list(APPEND asked ${name})
    endforeach()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES asked)
set(problems)
foreach(name IN LISTS asked)
  if(NOT name IN_LIST sites)
    list(APPEND problems "site '${name}' is asked for in src/ but not in zcp__site_names")
  endif()
endforeach()
foreach(name IN LISTS sites)
  if(NOT name IN_LIST asked)
    list(APPEND problems "site '${name}' is listed but no zcp__site_enabled asks for it")
  endif()
endforeach()

# Runs the emulated proof tests with `disabled` switched off; sets <prefix>_rc, the
# failed tests in <prefix>_failed, and <prefix>_why when the run went wrong otherwise.
function(proof_run disabled prefix)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env ZCP_EMULATE_NONCOHERENT=1 ZCP_EMULATE_POLICY=stale
            ZCP_DISABLE_SITE=${disabled} ${BIN} --filter=cluster_share/emulated_*
            --timeout 120
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out TIMEOUT 300)
  string(REGEX MATCHALL "\\[FAIL\\] cluster_share::[a-z_0-9]+" fails "${out}")
  string(REPLACE "[FAIL] cluster_share::" "" fails "${fails}")
  list(REMOVE_DUPLICATES fails)
  set(why "")
  if(NOT rc MATCHES "^[0-9]+$")
    set(why "did not finish: ${rc}")
  elseif(out MATCHES "ERROR: (Address|Leak)Sanitizer|runtime error:")
    set(why "a sanitizer reported")
  elseif(NOT out MATCHES "Crashing: 0")
    set(why "a test crashed or timed out")
  elseif(NOT out MATCHES "Tested: [1-9]")
    set(why "no emulated test ran")
  endif()
  if(NOT why STREQUAL "")
    string(LENGTH "${out}" len)
    if(len GREATER 4000)
      math(EXPR from "${len} - 4000")
      string(SUBSTRING "${out}" ${from} 4000 out)
    endif()
    message("---- output (ZCP_DISABLE_SITE=${disabled}) ----\n${out}\n----")
  endif()
  set(${prefix}_rc ${rc} PARENT_SCOPE)
  set(${prefix}_failed "${fails}" PARENT_SCOPE)
  set(${prefix}_why "${why}" PARENT_SCOPE)
endfunction()

proof_run("" base)
if(NOT base_why STREQUAL "" OR NOT base_rc EQUAL 0)
  list(APPEND problems
       "with every site on the proof tests must pass: exit ${base_rc}, failed [${base_failed}] ${base_why}")
else()
  message("all sites on: the emulated proof tests pass")
endif()

foreach(site IN LISTS sites)
  proof_run(${site} r)
  if(NOT r_why STREQUAL "")
    list(APPEND problems "${site} off: ${r_why}")
  elseif(r_rc EQUAL 0 OR r_failed STREQUAL "")
    list(APPEND problems "${site} off: no test failed (exit ${r_rc})")
  else()
    string(REPLACE ";" ", " caught "${r_failed}")
    message("${site} off: caught by ${caught}")
  endif()
endforeach()

if(problems)
  string(REPLACE ";" "\n  " text "${problems}")
  message(FATAL_ERROR "site_matrix:\n  ${text}")
endif()
message("site_matrix: all ${nsites} sites are needed")
