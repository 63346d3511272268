/* pointcloud.c -- how fast src/pointcloud.c parses a 1,000,000-point cloud
 * against the raw read speed of the same file, measured in the same run.
 *
 * Four files are written to a temporary directory: a binary PCD (fields x
 * y z intensity, float32), the same points as an ascii PCD, as a
 * binary_compressed PCD (the columns through liblzf's lzf_compress, as PCL
 * saves them) and as a binary little-endian PLY.  For each, the reference is read() of the whole
 * file into a buffer (made once per file) plus one pass summing its bytes (so the read is not
 * optimised away), with the page cache warm; the figure is that read plus lp_pointcloud_parse
 * keeping every point (as GET /v1/files/{sha}/points with ?max=1000000 does), and the ratio of the
 * two.  Median of 5 runs each.
 *
 *   bench/build/pointcloud [N_POINTS] */
#include <fcntl.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lzf.h>

#include "pointcloud.h"

#define RUNS 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Reads path whole into buf (cap bytes); returns its size; exits on
 * failure.  The buffer is the caller's, made once: the figure is the read,
 * not the page faults of a fresh allocation. */
static size_t read_into(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0) {
            perror("read");
            exit(1);
        }
        if (r == 0) break;
        got += (size_t)r;
        if (got == cap) {
            fprintf(stderr, "%s: over %zu bytes\n", path, cap);
            exit(1);
        }
    }
    close(fd);
    return got;
}

/* A deterministic point: a ground plane and some structure above it. */
static void point(size_t k, float p[4])
{
    uint32_t s = (uint32_t)k * 2654435761u;
    p[0] = (float)((s % 80000) / 1000.0 - 40);
    p[1] = (float)(((s >> 8) % 80000) / 1000.0 - 40);
    p[2] = (float)(k % 7 == 0 ? ((s >> 4) % 3000) / 1000.0 : -1.7);
    p[3] = (float)(s % 256);
}

static void write_file(const char *path, const char *head, size_t n, int ascii)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(head, f);
    for (size_t k = 0; k < n; k++) {
        float p[4];
        point(k, p);
        if (ascii)
            fprintf(f, "%.3f %.3f %.3f %.0f\n", p[0], p[1], p[2], p[3]);
        else
            fwrite(p, sizeof p, 1, f);
    }
    fclose(f);
}

/* Writes the n points as a binary_compressed PCD: the four float32 columns
 * one after another, LZF-compressed after the two sizes. */
static void write_compressed(const char *path, const char *head, size_t n)
{
    size_t usize = 16 * n;
    float *cols = malloc(usize ? usize : 1);
    for (size_t k = 0; k < n; k++) {
        float p[4];
        point(k, p);
        for (int c = 0; c < 4; c++) cols[c * n + k] = p[c];
    }
    unsigned char *z = malloc(usize + 64);
    unsigned int csize = lzf_compress(cols, (unsigned)usize, z, (unsigned)usize + 64);
    FILE *f = fopen(path, "wb");
    if (!f || !csize) {
        perror(path);
        exit(1);
    }
    uint32_t sizes[2] = {csize, (uint32_t)usize};
    fputs(head, f);
    fwrite(sizes, sizeof sizes, 1, f);
    fwrite(z, 1, csize, f);
    fclose(f);
    free(z);
    free(cols);
}

/* Times RUNS reads (+ checksum) and RUNS reads + parses of path; prints a row. */
static void measure(const char *what, const char *path, size_t n)
{
    double raw[RUNS], parse[RUNS];
    size_t bytes = 0, kept = 0;
    unsigned long sum = 0;
    struct stat st;
    if (stat(path, &st)) {
        perror(path);
        exit(1);
    }
    size_t cap = (size_t)st.st_size + 1;
    char *buf = malloc(cap);
    memset(buf, 0, cap);
    read_into(path, buf, cap); /* warm the page cache */
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        size_t len = read_into(path, buf, cap);
        for (size_t i = 0; i < len; i++) sum += (unsigned char)buf[i];
        raw[r] = now() - t0;

        t0 = now();
        len = read_into(path, buf, cap);
        lp_points p;
        char err[256];
        if (lp_pointcloud_parse(buf, len, n, &p, err, sizeof err)) {
            fprintf(stderr, "%s: %s\n", what, err);
            exit(1);
        }
        parse[r] = now() - t0;
        kept = p.n;
        bytes = len;
        lp_points_fini(&p);
    }
    free(buf);
    qsort(raw, RUNS, sizeof *raw, by_value);
    qsort(parse, RUNS, sizeof *parse, by_value);
    double mr = raw[RUNS / 2], mp = parse[RUNS / 2];
    printf("| %s | %.1f MB | %zu | %.1f ms (%.0f MB/s) | %.1f ms (%.0f MB/s, %.1f M points/s) | "
           "%.2fx |\n",
           what, bytes / 1e6, kept, mr * 1e3, bytes / 1e6 / mr, mp * 1e3, bytes / 1e6 / mp,
           kept / 1e6 / mp, mp / mr);
    if (sum == 42) puts(""); /* keep the checksum */
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    char dir[] = "/tmp/loupe-bench-pc-XXXXXX", path[4][300], head[512];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    const char *names[4] = {"binary.pcd", "ascii.pcd", "binary.ply", "compressed.pcd"};
    for (int i = 0; i < 4; i++) snprintf(path[i], sizeof path[i], "%s/%s", dir, names[i]);
    for (int ascii = 0; ascii < 2; ascii++) {
        snprintf(
            head, sizeof head,
            "# .PCD v0.7\nVERSION 0.7\nFIELDS x y z intensity\nSIZE 4 4 4 4\nTYPE F F F F\n"
            "COUNT 1 1 1 1\nWIDTH %zu\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS %zu\nDATA %s\n",
            n, n, ascii ? "ascii" : "binary");
        write_file(path[ascii], head, n, ascii);
    }
    snprintf(head, sizeof head,
             "ply\nformat binary_little_endian 1.0\nelement vertex %zu\nproperty float x\n"
             "property float y\nproperty float z\nproperty float intensity\nend_header\n",
             n);
    write_file(path[2], head, n, 0);
    snprintf(head, sizeof head,
             "# .PCD v0.7\nVERSION 0.7\nFIELDS x y z intensity\nSIZE 4 4 4 4\nTYPE F F F F\n"
             "COUNT 1 1 1 1\nWIDTH %zu\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS %zu\n"
             "DATA binary_compressed\n",
             n, n);
    write_compressed(path[3], head, n);
    sync(); /* written back now, not while the first file is timed */

    printf("pointcloud: %zu points, median of %d runs, page cache warm\n\n", n, RUNS);
    printf("| file | size | points kept | read() + checksum (reference) | read() + "
           "lp_pointcloud_parse | ratio |\n|---|---|---|---|---|---|\n");
    measure("PCD binary", path[0], n);
    measure("PCD binary_compressed (LZF)", path[3], n);
    measure("PCD ascii", path[1], n);
    measure("PLY binary little-endian", path[2], n);
    for (int i = 0; i < 4; i++) unlink(path[i]);
    rmdir(dir);
    return 0;
}
