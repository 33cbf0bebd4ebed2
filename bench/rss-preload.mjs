// Loaded with `node --import` before the measured program: at exit it writes the process's peak resident set
// size (process.resourceUsage().maxRSS, in KiB) to BENCH_RSS_FILE, so the benchmark can read the child's own
// peak memory on any platform without /usr/bin/time.
import { writeFileSync } from 'node:fs'

const file = process.env.BENCH_RSS_FILE
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)))
