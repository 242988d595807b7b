/*
 * Ground truth for sam's cmap record: libsam itself, one step at a time. argv[1] is the
 * recovery policy ("quit" or "restart", always with CMAP), argv[2] the time interval in ms,
 * the other arguments the steps (register, start, hc, stop, markfailed, finalize, exit).
 * Before each step it waits for a line "next" on stdin, so that the test can dump cmap in
 * between; after each step it prints "<step> <cs_error_t> <pid>".
 */
#include <corosync/sam.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads one line with read(2): stdio's buffer would be copied into the child at fork. */
static int next_line(void)
{
	char line[64];
	size_t n = 0;
	char c;
	while (read(0, &c, 1) == 1) {
		if (c == '\n') {
			line[n] = '\0';
			return strcmp(line, "next") == 0;
		}
		if (n < sizeof(line) - 1) line[n++] = c;
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 3) return 2;
	int policy = SAM_RECOVERY_POLICY_CMAP |
		(strcmp(argv[1], "restart") == 0 ? SAM_RECOVERY_POLICY_RESTART : SAM_RECOVERY_POLICY_QUIT);
	cs_error_t rc = sam_initialize(atoi(argv[2]), policy);
	printf("initialize %d %d\n", rc, (int)getpid());
	for (int i = 3; i < argc; i++) {
		if (!next_line()) return 3;
		const char *step = argv[i];
		unsigned int instance = 0;
		if (strcmp(step, "register") == 0) {
			rc = sam_register(&instance);
			printf("register %d %d instance %u\n", rc, (int)getppid(), instance);
			continue;
		} else if (strcmp(step, "start") == 0) rc = sam_start();
		else if (strcmp(step, "hc") == 0) rc = sam_hc_send();
		else if (strcmp(step, "stop") == 0) rc = sam_stop();
		else if (strcmp(step, "markfailed") == 0) rc = sam_mark_failed();
		else if (strcmp(step, "finalize") == 0) rc = sam_finalize();
		else if (strcmp(step, "exit") == 0) { printf("exit 1 %d\n", (int)getppid()); return 0; }
		else return 4;
		printf("%s %d %d\n", step, rc, (int)getppid());
	}
	return 0;
}
