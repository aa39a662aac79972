// SPDX-License-Identifier: GPL-2.0
/*
 * The measurement extended into PCR 15 after an unlock (see measure.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "measure.h"

int measurement_build(const char *uuid, const struct secret *vk, char *buf, size_t size)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char label[64];
	int n;

	n = snprintf(label, sizeof(label), "seal:%s", uuid);
	if (n < 0 || (size_t)n >= sizeof(label))
		return -EINVAL;
	if (!vk) {
		n = snprintf(buf, size, "%s:unsealed", label);
		return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
	}
	if (!HMAC(EVP_sha256(), vk->data, vk->len, (const unsigned char *)label, strlen(label),
		  mac, &mac_len))
		return -EIO;
	n = snprintf(buf, size, "%s:", label);
	for (unsigned int i = 0; i < mac_len && (size_t)n + 2 < size; i++)
		n += snprintf(buf + n, size - n, "%02x", mac[i]);
	secret_wipe(mac, sizeof(mac));
	return (size_t)n + 1 >= size ? -ENOSPC : 0;
}
