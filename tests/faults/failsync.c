/* failsync.c -- an LD_PRELOAD shim for tests/api/syncfail.test.mjs: while
 * the file named by LOUPE_FAILSYNC_FILE exists, fdatasync() and fsync()
 * fail with EIO without flushing, as a disk whose write-back failed does. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int failing(void)
{
    const char *f = getenv("LOUPE_FAILSYNC_FILE");
    return f && *f && access(f, F_OK) == 0;
}

int fdatasync(int fd)
{
    if (failing()) return errno = EIO, -1;
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return real(fd);
}

int fsync(int fd)
{
    if (failing()) return errno = EIO, -1;
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return real(fd);
}
