#!/bin/sh
# The gateway's floors, checked mechanically: every call points down.
#
#  10 main.c                             options, the daemon
#   9 lifecycle.c, lifecycle.h           libmicrohttpd's callbacks, the watchdog, the log line
#   8 resources.c                        the route table
#   7 res_*.c, resources.h               one file per resource: its handlers
#   6 reply.c, intake.c, request.h       sending answers; reading bodies
#   5 call.c                             the database call (the pipelined transaction)
#   4 statements.c, replica.c,           statements as data; read replica routing;
#     partitions.c, call.h               the partition map (the fast path past a proxy)
#   3 auth.c                             JWT, Basic
#   2 db.c                               the connection pool
#   1 error.c, i18n.c, session.c         the SQLSTATE table, error bodies; languages; session tokens
#   0 config.c, http_parse.c, gateway.h  settings; pure HTTP parsers
#
# Includes: a file includes only headers on its floor or below.  Calls and
# data: an object's undefined symbols (nm -u) that another gateway object
# defines must be defined on a strictly lower floor, so no file is both
# caller and callee of another.  The decoder's objects are the ground below.
set -eu
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
G=$ROOT/gateway

floor() {
    case $1 in
        assets.[co] | config.[co] | http_parse.[co] | gateway.h) echo 0 ;;
        error.[co] | i18n.[co] | session.[co]) echo 1 ;;
        db.[co]) echo 2 ;;
        auth.[co]) echo 3 ;;
        statements.[co] | replica.[co] | partitions.[co] | call.h) echo 4 ;;
        call.[co]) echo 5 ;;
        reply.[co] | intake.[co] | request.h) echo 6 ;;
        res_*.[co] | resources.h) echo 7 ;;
        resources.[co]) echo 8 ;;
        lifecycle.[cho]) echo 9 ;;
        main.[co]) echo 10 ;;
        decode.h) echo -1 ;;
        *) echo "gateway floors: $1 has no floor; add it to test/gateway_floors.sh" >&2; exit 1 ;;
    esac
}

fail=0
make -s -C "$G" >/dev/null
SRCS="main.c $(printf 'include sources.mk\nall:\n\t@echo $(PI_GATEWAY_SRCS) $(PI_GATEWAY_HDRS)\n' | make -s -C "$G" -f -)"
for f in "$G"/*.c "$G"/*.h; do
    case " $SRCS " in *" ${f##*/} "*) ;; *) echo "gateway floors: ${f##*/} is not in sources.mk"; exit 1 ;; esac
done

edges=0
for f in $SRCS; do
    ff=$(floor "$f")
    for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$G/$f"); do
        edges=$((edges + 1))
        fi=$(floor "$inc")
        if [ "$fi" -gt "$ff" ]; then
            echo "gateway floors: $f (floor $ff) includes $inc (floor $fi)"
            fail=1
        fi
    done
done

OBJS=$(for f in $SRCS; do case $f in *.c) echo "${f%.c}.o" ;; esac; done)
for o in $OBJS; do
    [ -f "$G/$o" ] || { echo "gateway floors: $G/$o was not built"; exit 1; }
done
floors_check gateway "$G" $OBJS

[ $fail = 0 ] || exit 1
echo "gateway: floors hold: $edges includes and $calls cross-file symbol uses all point down"
