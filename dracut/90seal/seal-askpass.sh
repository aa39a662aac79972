#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /usr/lib/dracut-seal/systemd-ask-password: what sealctl runs to ask for a passphrase in a
# systemd initramfs. systemd-ask-password gives up after 90 s by default; at boot we wait
# for as long as sealtab's timeout= says (0, the default, waits until someone answers).
PATH=${PATH#/usr/lib/dracut-seal:}
exec systemd-ask-password --timeout="${SEAL_ASKPASS_TIMEOUT:-0}" "$@"
