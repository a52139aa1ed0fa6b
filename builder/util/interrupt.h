#pragma once
// Ctrl-C and SIGTERM: the first one sets a flag that long-running work polls so it can stop
// its child processes and unwind (removing staged files, unmounting); a second one is left to
// the default handler.
namespace ccbake::util {

void install_interrupt_handlers();
bool interrupted();
// Throws ccbake::Error (exit 130) when an interrupt arrived.
void throw_if_interrupted();

} // namespace ccbake::util
