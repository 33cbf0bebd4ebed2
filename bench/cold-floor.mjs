// The cold-start floor: Node starting, printing one line and exiting, with the same preload as the action.
process.stdout.write('::error::floor\n')
process.exitCode = 1
