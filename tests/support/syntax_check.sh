#!/bin/sh
# Syntax-checks the per-architecture sources (src/*/*_ARCH.c) for an architecture other
# than the build machine's: with a cross compiler when one is installed, else with the
# host compiler told to pretend (-fsyntax-only never assembles, so foreign instructions
# in inline assembly pass; constraints and C are checked; the host C library headers
# are used, since none of these files depends on them beyond stdint.h). Exit 77 = skipped.
# usage: syntax_check.sh CC ARCH SOURCE_DIR
cc=$1 arch=$2 src=$3
case $arch in
  ppc64) cross=powerpc64le-linux-gnu-gcc; defs="-D__powerpc64__ -D__LITTLE_ENDIAN__" ;;
  aarch64) cross=aarch64-linux-gnu-gcc; defs="-D__aarch64__" ;;
  x86_64) cross=x86_64-linux-gnu-gcc; defs="-D__x86_64__" ;;
  *) echo "syntax_check: unknown architecture $arch"; exit 2 ;;
esac
files=$(ls "$src"/src/*/*_"$arch".c 2>/dev/null)
if [ -z "$files" ]; then echo "syntax_check: no sources for $arch"; exit 77; fi
if command -v "$cross" >/dev/null 2>&1; then
  compiler=$cross; defs=""
else
  echo "syntax_check: no $cross; using $cc with the architecture's defines"
  compiler=$cc
fi
status=0
for f in $files; do
  # shellcheck disable=SC2086
  if ! "$compiler" -std=c11 -Wall -Wextra -Werror -fsyntax-only $defs \
      -I"$src/include" -I"$src/src" "$f"; then
    status=1
  else
    echo "ok $f"
  fi
done
exit $status
