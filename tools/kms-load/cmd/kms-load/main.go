// Command kms-load drives a KMS v2 plugin over its unix socket the way kube-apiserver does: one
// gRPC connection (grpc-go, the apiserver's client library) shared by -c workers, each issuing
// unary calls back to back (closed loop) for -d or until -max calls in total. It prints one JSON
// line: {"op","c","n","errors","secs","rps","p50_ms","p99_ms","max_ms"} (+ "first_error").
//
// A Node client cannot be the load generator: it saturates far below what a Go server answers,
// so the baseline would be capped by the client and every ratio inflated.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	kms "k8s.io/kms/apis/v2"
)

// callTimeout is kube-apiserver's default per-call timeout for KMS plugins.
const callTimeout = 3 * time.Second

type options struct {
	sock    string
	op      string
	workers int
	dur     time.Duration
	max     int64
	size    int
	warm    int
}

type report struct {
	Op         string  `json:"op"`
	C          int     `json:"c"`
	N          int     `json:"n"`
	Errors     int64   `json:"errors"`
	Secs       float64 `json:"secs"`
	RPS        float64 `json:"rps"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	FirstError string  `json:"first_error,omitempty"`
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.sock, "sock", "", "unix socket of the KMS v2 plugin (required)")
	flag.StringVar(&o.op, "op", "encrypt", "which RPC to call: encrypt, decrypt or status")
	flag.IntVar(&o.workers, "c", 1, "concurrent callers sharing the one connection")
	flag.DurationVar(&o.dur, "d", 5*time.Second, "measurement duration")
	flag.Int64Var(&o.max, "max", 2_000_000, "stop after this many measured calls")
	flag.IntVar(&o.size, "size", 32, "plaintext size in bytes (a KMS v2 DEK seed is 32)")
	flag.IntVar(&o.warm, "warm", 1000, "unmeasured calls made first (connection, JIT, caches)")
	flag.Parse()
	if o.sock == "" || o.workers < 1 || (o.op != "encrypt" && o.op != "decrypt" && o.op != "status") {
		fmt.Fprintln(os.Stderr, "usage: kms-load -sock PATH [-op encrypt|decrypt|status] [-c N] [-d 5s] [-max N] [-size 32] [-warm N]")
		os.Exit(1)
	}
	return o
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "kms-load: %s: %v\n", what, err)
	os.Exit(2)
}

// newCall returns the one RPC this run repeats. Decrypt replays what a single Encrypt returned
// (ciphertext, key_id, annotations), as the apiserver does when it reads the same object again.
func newCall(client kms.KeyManagementServiceClient, o options) func(context.Context) error {
	plaintext := make([]byte, o.size)
	if _, err := rand.Read(plaintext); err != nil {
		fail("random plaintext", err)
	}
	switch o.op {
	case "status":
		return func(ctx context.Context) error {
			_, err := client.Status(ctx, &kms.StatusRequest{})
			return err
		}
	case "encrypt":
		return func(ctx context.Context) error {
			_, err := client.Encrypt(ctx, &kms.EncryptRequest{Plaintext: plaintext, Uid: "kms-load"})
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sealed, err := client.Encrypt(ctx, &kms.EncryptRequest{Plaintext: plaintext, Uid: "kms-load-setup"})
	if err != nil {
		fail("the Encrypt that decrypt replays", err)
	}
	req := &kms.DecryptRequest{Ciphertext: sealed.Ciphertext, KeyId: sealed.KeyId, Annotations: sealed.Annotations, Uid: "kms-load"}
	return func(ctx context.Context) error {
		_, err := client.Decrypt(ctx, req)
		return err
	}
}

func timed(call func(context.Context) error) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	start := time.Now()
	err := call(ctx)
	return time.Since(start), err
}

func main() {
	o := parseFlags()
	conn, err := grpc.Dial("unix://"+o.sock, grpc.WithInsecure(), grpc.WithContextDialer(
		func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", o.sock)
		}))
	if err != nil {
		fail("dial", err)
	}
	defer conn.Close()
	call := newCall(kms.NewKeyManagementServiceClient(conn), o)
	// A plugin that is not there (or refuses everything) is a setup error, not a measurement.
	if _, err := timed(call); err != nil {
		fail("first "+o.op+" call", err)
	}
	for i := 0; i < o.warm; i++ {
		timed(call)
	}

	var started, errors int64
	var firstErr atomic.Value
	perWorker := make([][]time.Duration, o.workers)
	var wg sync.WaitGroup
	begin := time.Now()
	stopAt := begin.Add(o.dur)
	for w := range perWorker {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<16)
			for time.Now().Before(stopAt) && atomic.AddInt64(&started, 1) <= o.max {
				d, err := timed(call)
				if err != nil {
					atomic.AddInt64(&errors, 1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				lat = append(lat, d)
			}
			perWorker[w] = lat
		}(w)
	}
	wg.Wait()
	secs := time.Since(begin).Seconds()

	var all []time.Duration
	for _, l := range perWorker {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r := report{Op: o.op, C: o.workers, N: len(all), Errors: errors, Secs: secs,
		P50ms: quantileMs(all, 0.50), P99ms: quantileMs(all, 0.99), MaxMs: quantileMs(all, 1)}
	if secs > 0 {
		r.RPS = float64(len(all)) / secs
	}
	if s, ok := firstErr.Load().(string); ok {
		r.FirstError = s
	}
	line, _ := json.Marshal(r)
	fmt.Println(string(line))
}

// quantileMs reads the q-quantile (nearest rank, lower) of sorted latencies, in milliseconds.
func quantileMs(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[int(q*float64(len(sorted)-1))].Microseconds()) / 1000
}
