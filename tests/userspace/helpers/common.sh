# SPDX-License-Identifier: GPL-2.0
# Sourced by every tests/userspace/*.sh: paths, a scratch directory, swtpm on
# loopback, header hashes and the assertion helper. Everything started here
# is stopped on exit.

set -u

HELPERS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HELPERS/../../.." && pwd)
SEAL_BUILD=${SEAL_BUILD:-$TOP/build}
UBUILD=${SEAL_USERSPACE_BUILD:-$SEAL_BUILD/userspace}
# the test build of sealctl (honours SEAL_TEST_FAST_PBKDF); the installed one is RELEASE_SEALCTL
SEALCTL=$UBUILD/tests/sealctl
RELEASE_SEALCTL=$UBUILD/sealctl
TOOL=$UBUILD/tests/seal-tpm-tool
# the TPM layer's own tests (tpm2-layer.c, a kselftest on kselftest_harness.h)
LAYER_TEST=$UBUILD/tests/tpm2-layer
PLUGIN=$UBUILD/libcryptsetup-token-seal-tpm2.so
. "$TOP/tests/lib/token-plugin.sh"

. "$TOP/tests/lib/ktap.sh"

# Argon2id at its minimum cost for test volumes (the test build only; sealctl(8)).
export SEAL_TEST_FAST_PBKDF=1
export TSS2_LOG=all+none
unset SEAL_TCTI

WORK=$(mktemp -d /tmp/seal-test.XXXXXX)
PLUGIN_COPY=$WORK/plugins
SEAL_PIDS=()

cleanup()
{
	local pid
	for pid in "${SEAL_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# SEAL_TEST_KEEP=1 keeps the scratch directory for a post-mortem
	if [ "${SEAL_TEST_KEEP:-}" = 1 ]; then
		echo "# kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

require()
{
	local tool
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			ktap_begin 1
			ktap_fail "$tool is installed (make deps)"
			exit 1
		fi
	done
	if [ ! -x "$SEALCTL" ] || [ ! -x "$RELEASE_SEALCTL" ] || [ ! -x "$TOOL" ]; then
		echo "# build first: make -C userspace O=$UBUILD all" >&2
		exit 1
	fi
}

# Two consecutive free TCP ports on 127.0.0.1 (command and control channel).
free_port_pair()
{
	python3 - <<'PY'
import random, socket
while True:
    p = random.randrange(20000, 60000, 2)
    socks = []
    try:
        for q in (p, p + 1):
            s = socket.socket(); s.bind(("127.0.0.1", q)); socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks: s.close()
    print(p); break
PY
}

wait_port()
{
	local i
	for i in $(seq 100); do
		python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 0.2)" \
			2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# swtpm_start [STATE_DIR]: a fresh (or kept) TPM; sets SWTPM_PORT, SWTPM_PID,
# SEAL_TCTI and TPM2TOOLS_TCTI. Another test may take the same free port at the
# same moment: then swtpm cannot bind and exits, and another pair is tried.
swtpm_start()
{
	local state=${1:-$WORK/tpm.$RANDOM} try
	SWTPM_STATE=$state
	mkdir -p "$state"
	for try in 1 2 3 4 5; do
		SWTPM_PORT=$(free_port_pair)
		swtpm socket --tpm2 --tpmstate dir="$state" \
			--server type=tcp,port="$SWTPM_PORT",bindaddr=127.0.0.1 \
			--ctrl type=tcp,port=$((SWTPM_PORT + 1)),bindaddr=127.0.0.1 \
			--flags not-need-init,startup-clear >"$WORK/swtpm.log" 2>&1 &
		SWTPM_PID=$!
		SEAL_PIDS+=("$SWTPM_PID")
		if wait_port "$SWTPM_PORT" && kill -0 "$SWTPM_PID" 2>/dev/null; then
			export SEAL_TCTI="swtpm:host=127.0.0.1,port=$SWTPM_PORT"
			export TPM2TOOLS_TCTI=$SEAL_TCTI
			return 0
		fi
		kill "$SWTPM_PID" 2>/dev/null
		wait "$SWTPM_PID" 2>/dev/null
	done
	echo "# swtpm did not start" >&2
	cat "$WORK/swtpm.log" >&2
	exit 1
}

swtpm_stop()
{
	kill "$SWTPM_PID" 2>/dev/null
	wait "$SWTPM_PID" 2>/dev/null
}

# A reboot of the machine, as the TPM sees it: the same TPM, PCRs at their reset values.
# An orderly one (TPM2_Shutdown first): a TPM counts a disorderly one against its
# dictionary-attack limit.
swtpm_reboot()
{
	TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$SWTPM_PORT" tpm2_shutdown >/dev/null 2>&1
	swtpm_stop
	swtpm_start "$SWTPM_STATE"
}

# A closed port: the TCTI for "no TPM".
no_tpm_tcti()
{
	echo "swtpm:host=127.0.0.1,port=$(free_port_pair)"
}

hdr_hash()
{
	head -c $((16 << 20)) "$1" | sha256sum | cut -d' ' -f1
}

new_image()
{
	rm -f "$1"
	truncate -s "${2:-32M}" "$1"
}

# hex_to_b64 HEX: the keyslot passphrase form of a TPM secret
hex_to_b64()
{
	python3 -c 'import sys, base64; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode(), end="")' "$1"
}
