/* nearest_command.c — placeholder for `maillage nearest` (being written). */
#include "commands.h"

#include <stdio.h>

int command_nearest(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "maillage nearest: not implemented yet\n");
    return 1;
}
