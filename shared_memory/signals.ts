// Linux signal numbers, so that exit codes read as a shell would report them (128 + signal).
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

export const SIGKILL = 9;
export const SIGTERM = 15;

/** The number of a signal name, or 0 when the name is not a signal. */
export function signalNumber(name: unknown): number {
  return typeof name === "string" && Object.hasOwn(SIGNALS, name) ? SIGNALS[name] : 0;
}

/** The name of a signal number, or undefined. */
export function signalName(signo: number): string | undefined {
  for (const [name, n] of Object.entries(SIGNALS)) if (n === signo) return name;
  return undefined;
}
