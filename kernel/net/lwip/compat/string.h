/* <string.h> for lwIP's sources: the kernel's own string routines. */
#pragma once
#include "lib/string.h"
