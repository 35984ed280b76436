/* How a program can end, for tests/test_exits.py: argv[1] picks the way and
 * the test checks the status the host sees (128+N for a fatal signal N). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *exit_from_thread(void *arg)
{
    usleep(10000);
    exit((int)(long)arg); /* exit_group from a second thread */
}

static void *outlive_main(void *arg)
{
    usleep(50000);
    printf("last thread done\n");
    fflush(stdout);
    return arg;
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "";
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(how, "status"))
        return atoi(argv[2]);
    if (!strcmp(how, "segv")) {
        int *volatile p = NULL; /* volatile: the compiler must not see the NULL */
        return p[2];
    }
    if (!strcmp(how, "abort"))
        abort();
    if (!strcmp(how, "term"))
        raise(SIGTERM);
    if (!strcmp(how, "kill"))
        kill(getpid(), SIGKILL);
    if (!strcmp(how, "ignored-term")) {
        signal(SIGTERM, SIG_IGN);
        raise(SIGTERM);
        return 9;
    }
    if (!strcmp(how, "thread-exit")) {
        pthread_t t;
        pthread_create(&t, NULL, exit_from_thread, (void *)42L);
        pause();
    }
    if (!strcmp(how, "main-thread-exits")) {
        /* the process lives on until its last thread ends */
        pthread_t t;
        pthread_create(&t, NULL, outlive_main, NULL);
        pthread_exit(NULL);
    }
    if (!strcmp(how, "unflushed")) {
        printf("buffered output is flushed at exit");
        return 0;
    }
    fprintf(stderr, "usage: exits status N|segv|abort|term|kill|ignored-term|thread-exit|main-thread-exits|unflushed\n");
    return 2;
}
