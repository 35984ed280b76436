// A Go program that exercises the runtime inside Osprey: 1,000 goroutines
// spread over every CPU, channels, time.Sleep, sync.Mutex and a GC loop.
// It prints each check and exits 1 when one fails, so it also runs natively.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

var failures int

func check(ok bool, format string, args ...interface{}) {
	if ok {
		fmt.Printf("ok   "+format+"\n", args...)
	} else {
		failures++
		fmt.Printf("FAIL "+format+"\n", args...)
	}
}

func goroutines() {
	const n = 1000
	var mu sync.Mutex
	counter := 0
	results := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Millisecond)
			mu.Lock()
			counter++
			mu.Unlock()
			results <- i
		}(i)
	}
	wg.Wait()
	close(results)
	sum := 0
	for v := range results {
		sum += v
	}
	check(counter == n, "%d goroutines counted under a mutex (%d)", n, counter)
	check(sum == n*(n-1)/2, "every goroutine sent its value on the channel")
}

func busyOnEveryCPU() {
	cpus := runtime.NumCPU()
	done := make(chan time.Duration, cpus)
	start := time.Now()
	for i := 0; i < cpus; i++ {
		go func() {
			t := time.Now()
			x := 0
			for time.Since(t) < 200*time.Millisecond {
				x++
			}
			_ = x
			done <- time.Since(t)
		}()
	}
	for i := 0; i < cpus; i++ {
		<-done
	}
	wall := time.Since(start)
	check(runtime.GOMAXPROCS(0) == cpus, "GOMAXPROCS follows the CPUs (%d)", cpus)
	check(wall < time.Duration(cpus)*200*time.Millisecond+300*time.Millisecond || cpus == 1,
		"%d busy goroutines ran in parallel (%v)", cpus, wall)
}

func sleeps() {
	t := time.Now()
	time.Sleep(50 * time.Millisecond)
	d := time.Since(t)
	check(d >= 50*time.Millisecond && d < 2*time.Second, "time.Sleep(50ms) took %v", d)
	timer := time.NewTimer(20 * time.Millisecond)
	select {
	case <-timer.C:
		check(true, "a timer fires")
	case <-time.After(5 * time.Second):
		check(false, "a timer fires")
	}
}

func garbage() {
	var keep [][]byte
	for round := 0; round < 20; round++ {
		for i := 0; i < 1000; i++ {
			b := make([]byte, 1024)
			b[0] = byte(i)
			if i%100 == 0 {
				keep = append(keep, b)
			}
		}
		runtime.GC()
	}
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	check(st.NumGC >= 20 && len(keep) == 200, "runtime.GC ran %d times with live data kept", st.NumGC)
}

func preemption() {
	// a goroutine spinning without function calls must not block the GC:
	// Go preempts it asynchronously with SIGURG
	stop := make(chan bool)
	go func() {
		x := 0
		for {
			select {
			case <-stop:
				return
			default:
			}
			for i := 0; i < 1e7; i++ {
				x += i
			}
		}
	}()
	t := time.Now()
	for i := 0; i < 5; i++ {
		runtime.GC()
	}
	close(stop)
	check(time.Since(t) < 10*time.Second, "GC completes beside a spinning goroutine (%v)", time.Since(t))
}

func main() {
	goroutines()
	busyOnEveryCPU()
	sleeps()
	garbage()
	preemption()
	host, err := os.Hostname()
	check(err == nil && host != "", "os.Hostname (%s)", host)
	fmt.Printf("%d check(s) failed\n", failures)
	if failures > 0 {
		os.Exit(1)
	}
}
