// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libcohort: handles, error messages and the actor identity ioctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <netlink/errno.h>

#include "internal.h"

#define DEV_PATH	"/dev/" COHORT_DEVICE_NAME

void cohort_set_errmsg(struct cohort *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
}

void cohort_clear_errmsg(struct cohort *c)
{
	c->errmsg[0] = '\0';
}

/* libnl reports its own error codes; callers of this library get errno. */
int cohort_nle_to_errno(int nle)
{
	static const int map[] = {
		[NLE_SUCCESS]		= 0,
		[NLE_FAILURE]		= EIO,
		[NLE_INTR]		= EINTR,
		[NLE_BAD_SOCK]		= EBADF,
		[NLE_AGAIN]		= EAGAIN,
		[NLE_NOMEM]		= ENOMEM,
		[NLE_EXIST]		= EEXIST,
		[NLE_INVAL]		= EINVAL,
		[NLE_RANGE]		= ERANGE,
		[NLE_MSGSIZE]		= EMSGSIZE,
		[NLE_OPNOTSUPP]		= EOPNOTSUPP,
		[NLE_AF_NOSUPPORT]	= EAFNOSUPPORT,
		[NLE_OBJ_NOTFOUND]	= ENOENT,
		[NLE_NOATTR]		= EPROTO,
		[NLE_MISSING_ATTR]	= EPROTO,
		[NLE_AF_MISMATCH]	= EAFNOSUPPORT,
		[NLE_SEQ_MISMATCH]	= EPROTO,
		[NLE_MSG_OVERFLOW]	= EMSGSIZE,
		[NLE_MSG_TRUNC]		= EMSGSIZE,
		[NLE_NOADDR]		= EADDRNOTAVAIL,
		[NLE_SRCRT_NOSUPPORT]	= EOPNOTSUPP,
		[NLE_MSG_TOOSHORT]	= EPROTO,
		[NLE_MSGTYPE_NOSUPPORT]	= EOPNOTSUPP,
		[NLE_OBJ_MISMATCH]	= EPROTO,
		[NLE_NOCACHE]		= ENOENT,
		[NLE_BUSY]		= EBUSY,
		[NLE_PROTO_MISMATCH]	= EPROTONOSUPPORT,
		[NLE_NOACCESS]		= EACCES,
		[NLE_PERM]		= EPERM,
		[NLE_PKTLOC_FILE]	= ENOENT,
		[NLE_PARSE_ERR]		= EINVAL,
		[NLE_NODEV]		= ENODEV,
		[NLE_IMMUTABLE]		= EPERM,
		[NLE_DUMP_INTR]		= EINTR,
		[NLE_ATTRSIZE]		= EPROTO,
	};

	if (nle < 0)
		nle = -nle;
	if ((size_t)nle >= sizeof(map) / sizeof(map[0]))
		return EIO;
	return map[nle];
}

static struct cohort *handle_alloc(void)
{
	struct cohort *c = calloc(1, sizeof(*c));

	if (c) {
		c->fd = -1;
		c->nlfd = -1;
	}
	return c;
}

COHORT_API int cohort_open(struct cohort **out)
{
	struct cohort *c;

	if (!out)
		return -EINVAL;
	*out = NULL;
	c = handle_alloc();
	if (!c)
		return -ENOMEM;
	c->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		int err = -errno;

		free(c);
		return err;
	}
	*out = c;
	return 0;
}

COHORT_API int cohort_open_netlink(struct cohort **out)
{
	struct cohort *c;

	if (!out)
		return -EINVAL;
	*out = NULL;
	c = handle_alloc();
	if (!c)
		return -ENOMEM;
	*out = c;
	return 0;
}

COHORT_API void cohort_close(struct cohort *c)
{
	if (!c)
		return;
	cohort_events_close(c);
	cohort_nl_close(c);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

COHORT_API int cohort_fd(const struct cohort *c)
{
	if (!c || c->fd < 0)
		return -EBADF;
	return c->fd;
}

COHORT_API const char *cohort_errmsg(const struct cohort *c)
{
	return c ? c->errmsg : "";
}

COHORT_API int cohort_actor_id(struct cohort *c, uint64_t *actor_id,
			       uint32_t *node_id)
{
	struct cohort_actor arg = { .size = sizeof(arg) };

	if (!c)
		return -EINVAL;
	cohort_clear_errmsg(c);
	if (c->fd < 0)
		return -EBADF;
	if (ioctl(c->fd, COHORT_IOC_ACTOR, &arg) < 0)
		return -errno;
	if (actor_id)
		*actor_id = arg.actor_id;
	if (node_id)
		*node_id = arg.node_id;
	return 0;
}
