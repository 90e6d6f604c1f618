/* wh_testdir — a fresh temporary directory per test and its recursive removal. */
#ifndef WH_TESTDIR_H
#define WH_TESTDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lt_str.h"

static int wh_testdir_rm1(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* Creates /tmp/wh-test-<6 random chars> into dir (needs 64 bytes); returns 0 or -1. */
static int wh_testdir_make(char dir[64])
{
    lt_strlcpy(dir, "/tmp/wh-test-", 64);
    size_t n = strlen(dir);
    memset(dir + n, 'X', 6); /* mkdtemp's template */
    dir[n + 6] = '\0';
    return mkdtemp(dir) ? 0 : -1;
}

static void wh_testdir_remove(const char *dir)
{
    nftw(dir, wh_testdir_rm1, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
