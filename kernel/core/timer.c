/* Timer queues: a red-black tree per CPU ordered by expiry; the LAPIC timer is
 * programmed for the earliest one. Interrupts that find nothing due (after a
 * cancel, or a count-mode timer that could not reach far enough) just re-arm. */
#include "core/timer.h"
#include "arch/lapic.h"
#include "arch/trap.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/panic.h"

struct timer_queue {
    spinlock_t lock;
    struct rb_root tree;
    uint64_t programmed_ns; /* what the LAPIC is set for, UINT64_MAX if nothing */
};

static struct timer_queue timer_queues[MAX_CPUS];

void timer_init(struct timer *t, void (*fn)(struct timer *t))
{
    t->fn = fn;
    t->cpu = -1;
    t->expires_ns = 0;
}

static void queue_insert(struct timer_queue *q, struct timer *t)
{
    struct rb_node **link = &q->tree.node, *parent = NULL;
    while (*link) {
        parent = *link;
        struct timer *other = rb_entry(parent, struct timer, node);
        link = t->expires_ns < other->expires_ns ? &parent->left : &parent->right;
    }
    rb_link(&t->node, parent, link);
    rb_insert_fixup(&q->tree, &t->node);
}

/* Point the LAPIC at the earliest timer; queue lock held, on its own CPU. */
static void queue_program(struct timer_queue *q)
{
    struct rb_node *first = rb_first(&q->tree);
    if (!first) {
        if (q->programmed_ns != UINT64_MAX)
            lapic_timer_stop();
        q->programmed_ns = UINT64_MAX;
        return;
    }
    uint64_t when = rb_entry(first, struct timer, node)->expires_ns;
    if (when != q->programmed_ns) {
        q->programmed_ns = when;
        lapic_timer_arm_tsc(clock_ns_to_tsc_deadline(when));
    }
}

static void timer_remove_locked(struct timer_queue *q, struct timer *t)
{
    rb_erase(&q->tree, &t->node);
    t->cpu = -1;
}

/* t->cpu is the queue's CPU while armed, -1 when idle, and TIMER_RUNNING(cpu)
 * while its callback runs, so a cancel can wait for the callback to finish
 * before the caller frees the timer. */
#define TIMER_RUNNING(cpu) (-2 - (int)(cpu))

bool timer_cancel(struct timer *t)
{
    for (;;) {
        int cpu = READ_ONCE(t->cpu);
        if (cpu == -1)
            return false;
        if (cpu <= TIMER_RUNNING(0)) {
            cpu_pause();
            continue;
        }
        struct timer_queue *q = &timer_queues[cpu];
        irqflags_t f = spin_lock(&q->lock);
        if (t->cpu == cpu) { /* still on that queue: remove it there */
            timer_remove_locked(q, t);
            spin_unlock(&q->lock, f);
            return true;
        }
        spin_unlock(&q->lock, f);
    }
}

void timer_arm(struct timer *t, uint64_t expires_ns)
{
    if (t->cpu > TIMER_RUNNING(0)) /* from its own callback the timer is already off its queue */
        timer_cancel(t);
    irqflags_t f = irq_save();
    unsigned cpu = cpu_current_id();
    struct timer_queue *q = &timer_queues[cpu];
    spin_lock_raw(&q->lock);
    t->expires_ns = expires_ns;
    t->cpu = (int)cpu;
    queue_insert(q, t);
    queue_program(q);
    spin_unlock_raw(&q->lock);
    irq_restore(f);
}

static void timer_interrupt(struct trap_frame *frame, void *ctx)
{
    (void)frame;
    (void)ctx;
    struct timer_queue *q = &timer_queues[cpu_current_id()];
    spin_lock_raw(&q->lock);
    q->programmed_ns = UINT64_MAX; /* the one-shot has fired */
    for (;;) {
        struct rb_node *first = rb_first(&q->tree);
        if (!first)
            break;
        struct timer *t = rb_entry(first, struct timer, node);
        if (t->expires_ns > clock_monotonic_ns())
            break;
        timer_remove_locked(q, t);
        t->cpu = TIMER_RUNNING(cpu_current_id());
        /* run without the lock: the callback may arm timers */
        spin_unlock_raw(&q->lock);
        t->fn(t);
        spin_lock_raw(&q->lock);
        /* re-armed by its own callback? then it is on a queue again */
        __atomic_compare_exchange_n(&t->cpu, &(int){ TIMER_RUNNING(cpu_current_id()) }, -1, false,
                                    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    }
    queue_program(q);
    spin_unlock_raw(&q->lock);
}

void timer_init_cpu(void)
{
    struct timer_queue *q = &timer_queues[cpu_current_id()];
    spin_init(&q->lock);
    q->tree.node = NULL;
    q->programmed_ns = UINT64_MAX;
    if (cpu_current_id() == 0)
        trap_set_irq_handler(VEC_LAPIC_TIMER, timer_interrupt, NULL);
    lapic_timer_setup(VEC_LAPIC_TIMER);
}
