#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs as root inside a booted e2e system (tests/e2e/guest/init, seal_e2e.run=): Debian's
# PostgreSQL on the cluster in the seal root's /pgdata (here /mnt/pgdata).
#   write:SECRET  create a table holding SECRET, CHECKPOINT, stop the server; then look for
#                 SECRET in the cluster's files (it must be there in plain, or the search
#                 on the raw disk proves nothing)
#   read          print the table's rows as "SEAL-E2E-PG-ROW <value>"
# Lines "SEAL-E2E-CHECK <name> ok|fail" report, "# " lines explain.
mode=${1%%:*}
secret=${1#*:}
data=/mnt/pgdata
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
result() { echo "SEAL-E2E-CHECK $1 $([ "$2" = 0 ] && echo ok || echo fail)"; }
pg()
{
	local cmd=$1
	shift
	runuser -u postgres -- "$pgbin/$cmd" "$@"
}
psql() { pg psql -h /tmp -U postgres -X -q -A -t -v ON_ERROR_STOP=1 -d postgres "$@"; }

if ! pg pg_ctl -D "$data" -l /tmp/postgres.log -w -t 120 \
	-o "-k /tmp -c listen_addresses= -c fsync=on -c full_page_writes=on" start >/dev/null; then
	sed 's/^/# postgres: /' /tmp/postgres.log
	result postgres-start 1
	exit 1
fi
result postgres-start 0

case "$mode" in
write)
	psql -c "CREATE TABLE secrets (v text)" \
		-c "INSERT INTO secrets VALUES ('$secret')" \
		-c "CHECKPOINT"
	result postgres-write $?
	pg pg_ctl -D "$data" -m fast -w stop >/dev/null
	sync
	# the control for the host's search of the raw image: above the encryption the secret
	# lies in the cluster's files as plain bytes, which strings(1) finds
	n=$(find "$data" -type f -exec strings -n 8 {} + | grep -c -F "$secret")
	echo "# strings over the cluster's files finds the secret $n times"
	result plaintext-visible $([ "$n" -gt 0 ] && echo 0 || echo 1)
	;;
read)
	psql -c "SELECT v FROM secrets" | sed 's/^/SEAL-E2E-PG-ROW /'
	pg pg_ctl -D "$data" -m fast -w stop >/dev/null
	;;
esac
