/* test_config.c -- settings: defaults, environment, flags, bad values. */
#include <stdlib.h>

#include "config.h"
#include "test.h"
#include "util.h"

TEST(config_flags_beat_environment_beat_defaults)
{
    unsetenv("LOUPE_LISTEN");
    unsetenv("LOUPE_DB");
    setenv("LOUPE_DATA_DIR", "/srv/loupe", 1);
    setenv("LOUPE_THREADS", "3", 1);
    char *argv[] = {"loupe",  "user", "add", "--threads", "5", "x@y.z", "--listen=0.0.0.0:9000",
                    "--role", "admin"};
    int argc = 9;
    lp_config c = {0};
    char *err = NULL;
    CHECK_INT(lp_config_load(&c, &argc, argv, 2, &err), 0);
    /* settings are taken wherever they stand; the command keeps the rest */
    CHECK_INT(argc, 6);
    CHECK_STR(argv[2], "add");
    CHECK_STR(argv[3], "x@y.z");
    CHECK_STR(argv[4], "--role");
    CHECK_STR(argv[5], "admin");
    CHECK_STR(c.listen, "0.0.0.0:9000");
    CHECK_STR(c.data_dir, "/srv/loupe");
    CHECK_STR(c.db, "sqlite:/srv/loupe/loupe.db"); /* derived from the data dir */
    CHECK_INT(c.threads, 5);
    CHECK_INT(c.demo, 0);
    lp_config_fini(&c);
    unsetenv("LOUPE_DATA_DIR");
    unsetenv("LOUPE_THREADS");
}

TEST(config_bad_values_name_the_setting)
{
    char *argv[] = {"loupe", "serve", "--threads", "many"};
    int argc = 4;
    lp_config c = {0};
    char *err = NULL;
    CHECK_INT(lp_config_load(&c, &argc, argv, 2, &err), LP_EINVAL);
    CHECK(err && strstr(err, "--threads") && strstr(err, "many"));
    free(err);
    lp_config_fini(&c);
    char *argv2[] = {"loupe", "serve", "--listen"};
    lp_config c2 = {0};
    argc = 3;
    CHECK_INT(lp_config_load(&c2, &argc, argv2, 2, &err), LP_EINVAL);
    CHECK(err && strstr(err, "needs a value"));
    free(err);
    lp_config_fini(&c2);
    setenv("LOUPE_BODY_LIMIT_MB", "0", 1);
    lp_config c3 = {0};
    argc = 2;
    CHECK_INT(lp_config_load(&c3, &argc, argv, 2, &err), LP_EINVAL);
    CHECK(err && strstr(err, "LOUPE_BODY_LIMIT_MB"));
    free(err);
    lp_config_fini(&c3);
    unsetenv("LOUPE_BODY_LIMIT_MB");
}

TEST(config_help_lists_every_setting_and_variable)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    lp_config_help(f);
    fclose(f);
    const char *want[] = {"--listen", "LOUPE_LISTEN", "--db",
                          "LOUPE_DB", "--data-dir",   "LOUPE_DATA_DIR"};
    for (size_t i = 0; i < LP_ARRAY_LEN(want); i++) CHECK(strstr(buf, want[i]) != NULL);
    free(buf);
}
