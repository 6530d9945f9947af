// Go peers of the JMH suite (benchmarks/src): switch, ping-pong, chain, threadring, skynet, spawn and
// memory per blocked goroutine. Prints machine-readable lines
//
//	RESULT <workload> <system> <value> <unit> [note...]
//
// where <system> is "go1" under GOMAXPROCS=1 and "go" otherwise (override with -system).
// Each per-op workload runs one warm-up round and then -rounds timed rounds of about -round long;
// the figure is the median round (skynet: the best run, as in atemerev/skynet).
//
//	go run . [-quick] [-rounds N] [-round 500ms] [-system NAME] [workload ...]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"
)

var (
	rounds   = flag.Int("rounds", 5, "timed rounds per workload (skynet: runs)")
	roundDur = flag.Duration("round", 500*time.Millisecond, "target length of one timed round")
	quick    = flag.Bool("quick", false, "fewer, shorter rounds (a fast trial)")
	system   = flag.String("system", "", "system name in RESULT lines (default go1 / go by GOMAXPROCS)")
)

type ball struct{ n int }

// ---- switch: two goroutines alternating through runtime.Gosched(); one op = one Gosched call.
func switchOnce(n int) {
	var wg sync.WaitGroup
	wg.Add(2)
	for k := 0; k < 2; k++ {
		go func() {
			for i := 0; i < n; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
}

// ---- pingpong: a ball bounces between two goroutines over two unbuffered channels; one op = one hop
// (one send meeting one receive).
func pingPongOnce(hops int) {
	ping := make(chan *ball)
	pong := make(chan *ball)
	done := make(chan struct{})
	b := &ball{}
	go func() { // echo
		for i := 0; i < hops/2; i++ {
			pong <- <-ping
		}
	}()
	go func() { // server
		for i := 0; i < hops/2; i++ {
			ping <- b
			<-pong
		}
		close(done)
	}()
	<-done
}

// ---- chain: chainTasks relay goroutines joined by chainTasks+1 unbuffered channels in a line; a
// feeder sends balls into the first channel, the caller takes them out of the last. One op = one hop
// (a ball moved over one channel); several balls are in the chain at once. Built once, like the JMH
// chain (@Setup(Level.Trial)).
const chainTasks = 10000

type chain struct{ first, last chan *ball }

func newChain() chain {
	first := make(chan *ball)
	in := first
	for i := 0; i < chainTasks; i++ {
		out := make(chan *ball)
		go func(in, out chan *ball) {
			for v := range in {
				out <- v
			}
			close(out)
		}(in, out)
		in = out
	}
	return chain{first, in}
}

func (c chain) run(ops int) {
	values := ops / (chainTasks + 1)
	b := &ball{}
	go func() {
		for i := 0; i < values; i++ {
			c.first <- b
		}
	}()
	for i := 0; i < values; i++ {
		<-c.last
	}
}

func (c chain) close() {
	close(c.first)
	for range c.last {
	}
}

// ---- threadring: 503 goroutines in a ring of unbuffered channels, a token passed `passes` times;
// one op = one pass.
const ringSize = 503

func threadRingOnce(passes int) int {
	chans := make([]chan int, ringSize)
	for i := range chans {
		chans[i] = make(chan int)
	}
	result := make(chan int)
	for i := 0; i < ringSize; i++ {
		go func(id int, in, out chan int) {
			for {
				t := <-in
				if t == 0 {
					result <- id
					return
				}
				out <- t - 1
			}
		}(i+1, chans[i], chans[(i+1)%ringSize])
	}
	chans[0] <- passes
	winner := <-result
	// Stop the others: each remaining goroutine gets a 0 token through its own channel.
	for i := 0; i < ringSize; i++ {
		if i+1 != winner {
			chans[i] <- 0
			<-result
		}
	}
	return winner
}

// ---- skynet: atemerev/skynet's Go program (unbuffered channels, fan-out 10).
func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	sum := 0
	for i := 0; i < div; i++ {
		subNum := num + i*(size/div)
		go skynet(rc, subNum, size/div, div)
	}
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

func skynetOnce() int {
	c := make(chan int)
	go skynet(c, 0, 1000000, 10)
	return <-c
}

// ---- spawn: n goroutines created, each ending at once (wg.Done); one op = one goroutine
// created + finished, in batches of spawnBatch.
const spawnBatch = 10000

func spawnOnce(n int) {
	var wg sync.WaitGroup
	for done := 0; done < n; done += spawnBatch {
		wg.Add(spawnBatch)
		for i := 0; i < spawnBatch; i++ {
			go wg.Done()
		}
		wg.Wait()
	}
}

// timeOps runs f(ops) for one warm-up round, sizes ops so that a round lasts about -round, then
// returns the median ns/op of -rounds timed rounds.
func timeOps(start int, multipleOf int, f func(int)) float64 {
	ops := start
	for {
		t0 := time.Now()
		f(ops)
		el := time.Since(t0)
		if el >= *roundDur/4 || ops >= 1<<30 {
			if el > 0 {
				ops = int(float64(ops) * float64(*roundDur) / float64(el))
			}
			break
		}
		ops *= 4
	}
	ops = (ops/multipleOf + 1) * multipleOf
	f(ops) // warm-up at the final size
	var per []float64
	for r := 0; r < *rounds; r++ {
		t0 := time.Now()
		f(ops)
		per = append(per, float64(time.Since(t0).Nanoseconds())/float64(ops))
	}
	sort.Float64s(per)
	return per[len(per)/2]
}

func result(workload string, value float64, unit string, note string) {
	fmt.Printf("RESULT %s %s %.2f %s %s\n", workload, *system, value, unit, note)
}

func main() {
	flag.Parse()
	if *quick {
		*rounds = 3
		*roundDur = 200 * time.Millisecond
	}
	procs := runtime.GOMAXPROCS(0)
	if *system == "" {
		if procs == 1 {
			*system = "go1"
		} else {
			*system = "go"
		}
	}
	workloads := flag.Args()
	if len(workloads) == 0 {
		workloads = []string{"switch", "pingpong", "chain", "threadring", "skynet", "spawn", "memory"}
	}
	ver := fmt.Sprintf("%s GOMAXPROCS=%d", runtime.Version(), procs)
	fmt.Printf("# %s, %d CPUs\n", ver, runtime.NumCPU())
	for _, w := range workloads {
		switch w {
		case "switch":
			v := timeOps(1000, 2, func(ops int) { switchOnce(ops / 2) })
			result(w, v, "ns/op", fmt.Sprintf("runtime.Gosched() between 2 goroutines, %s", ver))
		case "pingpong":
			v := timeOps(1000, 2, pingPongOnce)
			result(w, v, "ns/op", fmt.Sprintf("unbuffered channels, 2 goroutines, %s", ver))
		case "chain":
			c := newChain()
			v := timeOps(10*(chainTasks+1), chainTasks+1, c.run)
			c.close()
			result(w, v, "ns/op", fmt.Sprintf("10,000 relay goroutines, unbuffered channels, %s", ver))
		case "threadring":
			v := timeOps(10000, 1, func(ops int) { threadRingOnce(ops) })
			result(w, v, "ns/op", fmt.Sprintf("503 goroutines, unbuffered channels, %s", ver))
		case "skynet":
			runs := *rounds
			if runs < 3 {
				runs = 3
			}
			if s := skynetOnce(); s != 499999500000 { // warm-up and check
				fmt.Fprintf(os.Stderr, "skynet: wrong sum %d\n", s)
				os.Exit(1)
			}
			best := time.Duration(1 << 62)
			for r := 0; r < runs; r++ {
				runtime.GC()
				t0 := time.Now()
				skynetOnce()
				if el := time.Since(t0); el < best {
					best = el
				}
			}
			result(w, float64(best.Nanoseconds())/1e6, "ms", fmt.Sprintf("1,000,000 goroutines, best of %d, %s", runs, ver))
		case "spawn":
			v := timeOps(spawnBatch, spawnBatch, spawnOnce)
			result(w, v, "ns/op", fmt.Sprintf("go + sync.WaitGroup, batches of %d, %s", spawnBatch, ver))
		case "memory":
			v := memoryPerBlocked(1000000)
			result(w, v, "bytes", fmt.Sprintf("runtime heap+stack in use per goroutine blocked in <-ch, 1,000,000 goroutines, %s", ver))
		default:
			fmt.Fprintf(os.Stderr, "unknown workload %q (want %s)\n", w,
				strings.Join([]string{"switch", "pingpong", "chain", "threadring", "skynet", "spawn", "memory"}, ", "))
			os.Exit(2)
		}
	}
}

// memoryPerBlocked: HeapInuse+StackInuse growth per goroutine blocked receiving from one shared
// unbuffered channel (the analogue of RetainedMemoryKt).
func memoryPerBlocked(n int) float64 {
	inUse := func() uint64 {
		runtime.GC()
		debug.FreeOSMemory()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse + m.StackInuse
	}
	ch := make(chan struct{})
	var started sync.WaitGroup
	before := inUse()
	started.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-ch
		}()
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let the last ones reach <-ch
	blocked := inUse()
	close(ch)
	return float64(int64(blocked)-int64(before)) / float64(n)
}
