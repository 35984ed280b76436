/* Tests of the small pieces: CRC-32, the settings encoding, the serial
 * console's record filter, and the guest command line composition. */
#include "selftest.h"
#include "image.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void crc(void)
{
    CHECK(crc32_update(0, "123456789", 9) == 0xcbf43926u);
    uint32_t c = crc32_update(0, "1234", 4);
    CHECK(crc32_update(c, "56789", 5) == 0xcbf43926u);
    CHECK(crc32_update(0, "", 0) == 0);
}

static void config(void)
{
    struct image_config c;
    char err[128];
    const char rec[] = "argv=/bin/app\0argv=\0future=thing\0env=A=b=c\0memory=64\0";
    CHECK(image_config_decode(&c, rec, sizeof(rec) - 1, err, sizeof(err)) == 0);
    CHECK(c.argv.n == 2 && !strcmp(c.argv.v[1], "") && c.env.n == 1 && !strcmp(c.env.v[0], "A=b=c"));
    CHECK(c.memory_mib == 64 && c.cpus == 0 && !c.cwd);
    CHECK(image_config_decode(&c, "argv=x", 6, err, sizeof(err)) == -1 && strstr(err, "NUL"));
    CHECK(image_config_decode(&c, "cpus=0", 7, err, sizeof(err)) == -1 && strstr(err, "cpus"));
    CHECK(image_config_decode(&c, "noequals", 9, err, sizeof(err)) == -1);
}

static int records_seen;
static char last_record[64];

static void on_record(void *ctx, const char *r)
{
    (void)ctx;
    records_seen++;
    strcpy(last_record, r);
}

static void serial_filter(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    struct serial_filter f = { .out_fd = p[1] };
    const char *chunks[] = { "hello\n\x1e", "exit=4", "2\r\nprompt> ", "a\x1e" "b\n", "\x1epanic\n" };
    for (size_t i = 0; i < 5; i++)
        serial_filter_feed(&f, chunks[i], strlen(chunks[i]), on_record, NULL);
    close(p[1]);
    char out[256];
    ssize_t n = read(p[0], out, sizeof(out) - 1);
    close(p[0]);
    out[n > 0 ? n : 0] = '\0';
    CHECK(!strcmp(out, "hello\nprompt> a\x1e" "b\n")); /* a mark mid-line is data */
    CHECK(records_seen == 2 && !strcmp(last_record, "panic"));
}

static void compose(void)
{
    struct strvec env = { 0 }, disks = { 0 }, ports = { 0 };
    char *words[] = { "--verbose", "--env=B=2", "--cwd=/x", "/bin/prog", "--flag" };
    struct run_config cfg = { .env = &env, .disks = &disks, .ports = &ports, .user_words = words, .nuser_words = 5 };
    strvec_push(&env, "A=run");
    struct image im = { 0 };
    strvec_push(&im.config.argv, "/default");
    strvec_push(&im.config.env, "A=image");
    strvec_push(&im.config.env, "C=3");
    im.config.cwd = "/srv";
    guest_compose(&cfg, &im);
    char *line = shell_join(cfg.kernel_args);
    CHECK(!strcmp(line, "--verbose --env=A=run --env=C=3 --env=B=2 --cwd=/x /bin/prog --flag"));
    free(line);
    cfg.nuser_words = 1; /* no program: the image's command */
    guest_compose(&cfg, &im);
    line = shell_join(cfg.kernel_args);
    CHECK(!strcmp(line, "--verbose --env=A=run --env=C=3 --cwd=/srv /default"));
    free(line);
    char *dashed[] = { "--", "--weird-name" };
    cfg.user_words = dashed;
    cfg.nuser_words = 2;
    guest_compose(&cfg, NULL);
    line = shell_join(cfg.kernel_args);
    CHECK(!strcmp(line, "--env=A=run -- --weird-name"));
    free(line);
}

void st_misc(void)
{
    crc();
    config();
    serial_filter();
    compose();
}
