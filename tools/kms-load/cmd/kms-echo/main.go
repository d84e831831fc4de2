// Command kms-echo is the cheapest KMS v2 plugin there can be: Encrypt and Decrypt hand back their
// input, Status is constant. Loaded with kms-load exactly like a real plugin, it measures what
// grpc-go over a unix socket costs on this machine; benchmarks report a plugin's figures as a ratio
// of the echo's, measured in the same run.
// Usage: kms-echo -sock PATH   (serves until SIGTERM/SIGINT, then removes its socket)
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"
	kms "k8s.io/kms/apis/v2"
)

type echoPlugin struct{}

const echoKeyID = "kms-echo"

func (echoPlugin) Status(context.Context, *kms.StatusRequest) (*kms.StatusResponse, error) {
	return &kms.StatusResponse{Version: "v2", Healthz: "ok", KeyId: echoKeyID}, nil
}

func (echoPlugin) Encrypt(_ context.Context, r *kms.EncryptRequest) (*kms.EncryptResponse, error) {
	return &kms.EncryptResponse{Ciphertext: r.Plaintext, KeyId: echoKeyID}, nil
}

func (echoPlugin) Decrypt(_ context.Context, r *kms.DecryptRequest) (*kms.DecryptResponse, error) {
	return &kms.DecryptResponse{Plaintext: r.Ciphertext}, nil
}

func main() {
	sock := flag.String("sock", "", "unix socket to serve on (required)")
	flag.Parse()
	if *sock == "" {
		fmt.Fprintln(os.Stderr, "usage: kms-echo -sock PATH")
		os.Exit(1)
	}
	// A socket file left by a killed run would make Listen fail with EADDRINUSE.
	_ = os.Remove(*sock)
	lis, err := net.Listen("unix", *sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kms-echo:", err)
		os.Exit(2)
	}
	srv := grpc.NewServer()
	kms.RegisterKeyManagementServiceServer(srv, echoPlugin{})
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		srv.Stop()
	}()
	if err := srv.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, "kms-echo:", err)
	}
	_ = os.Remove(*sock)
}
