// Package childtest runs one test again in a child process of the test
// binary. Some failures can only be produced honestly outside the test
// process: a read-only directory means nothing to root (CAP_DAC_OVERRIDE),
// and a file-size limit (RLIMIT_FSIZE) applies to the whole process — the
// testing package's own log included. Such a test calls Run, which starts
// the child (as the unprivileged user "nobody" when asked and the tests run
// as root) and returns; in the child, InChild is true and the test does its
// work.
//
// Child runs are Linux-only: on other platforms Run skips the test.
package childtest
