/* build.c — placeholder for `maillage build` (being written). */
#include "commands.h"

#include <stdio.h>

int command_build(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "maillage build: not implemented yet\n");
    return 1;
}
