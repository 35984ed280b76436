/* Sleeping mutexes. Unlock hands ownership straight to the longest waiter, so
 * no thread starves however hot the lock is. Never held by interrupt code. */
#pragma once

#include "arch/spinlock.h"
#include "lib/list.h"

struct thread;

struct mutex {
    spinlock_t lock;        /* protects owner and waiters */
    struct thread *owner;
    struct list_node waiters;
};

#define MUTEX_INIT(m) { SPINLOCK_INIT, NULL, LIST_INIT((m).waiters) }

void mutex_init(struct mutex *m);
void mutex_lock(struct mutex *m);
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);
bool mutex_held_by_me(struct mutex *m);
