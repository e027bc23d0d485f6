/* zs-tags — the tag service's process (tags.h). */
#include "tags.h"

int main(int argc, char **argv)
{
    return zs_service_main(&zs_tags_service, argc, argv);
}
