/* Files: create, write, read back, seek, stat, rename, directories, unlink. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

int main(void)
{
    char dir[] = "/tmp/umlpy-files-XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    char path[256], path2[256];
    snprintf(path, sizeof path, "%s/a.txt", dir);
    snprintf(path2, sizeof path2, "%s/b.txt", dir);
    int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0640);
    if (fd < 0) { perror("open"); return 1; }
    const char *msg = "hello, files\n";
    printf("write: %zd\n", write(fd, msg, strlen(msg)));
    printf("lseek end: %ld\n", (long)lseek(fd, 0, SEEK_END));
    printf("pwrite: %zd\n", pwrite(fd, "HELLO", 5, 0));
    lseek(fd, 0, SEEK_SET);
    char buf[64] = {0};
    printf("read: %zd '%.*s'\n", read(fd, buf, sizeof buf - 1), 12, buf);
    struct stat st;
    fstat(fd, &st);
    printf("size=%ld regular=%d mode=%o\n", (long)st.st_size, S_ISREG(st.st_mode), st.st_mode & 0777);
    close(fd);
    printf("O_EXCL again: %d errno=%s\n", open(path, O_CREAT | O_EXCL | O_RDWR, 0640),
           errno == EEXIST ? "EEXIST" : "other");
    printf("rename: %d\n", rename(path, path2));
    printf("old name gone: %d\n", access(path, F_OK) == -1 && errno == ENOENT);
    for (int i = 0; i < 3; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/f%d", dir, i);
        close(open(p, O_CREAT | O_WRONLY, 0600));
    }
    mkdir(strcat(strcpy(path, dir), "/sub"), 0755);
    DIR *d = opendir(dir);
    char *names[16];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 16)
        names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("entries:");
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");
    printf("rmdir non-empty: %d errno=%s\n", rmdir(dir), errno == ENOTEMPTY ? "ENOTEMPTY" : "other");
    char cwd[256];
    chdir(dir);
    getcwd(cwd, sizeof cwd);
    printf("cwd is the dir: %d\n", strcmp(cwd, dir) == 0);
    printf("relative stat: %d\n", stat("b.txt", &st) == 0 && st.st_size == 13);
    unlink("b.txt");
    for (int i = 0; i < 3; i++) {
        char p[16];
        snprintf(p, sizeof p, "f%d", i);
        unlink(p);
    }
    rmdir("sub");
    chdir("/");
    printf("rmdir: %d\n", rmdir(dir));
    printf("missing: %d errno=%s\n", open("/nonexistent/file", O_RDONLY),
           errno == ENOENT ? "ENOENT" : "other");
    return 0;
}
