// A Go net/http server for tests/test_net.py: lists the interfaces Go's
// net package sees (netlink underneath), then serves /hello, /data?n=BYTES
// and /quit on the port given as the first argument.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	port := "8080"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	ifs, err := net.Interfaces()
	if err != nil {
		fmt.Println("interfaces error:", err)
		os.Exit(1)
	}
	for _, i := range ifs {
		addrs, _ := i.Addrs()
		fmt.Printf("interface %s index %d mtu %d flags %v hw %s addrs %v\n", i.Name, i.Index, i.MTU, i.Flags, i.HardwareAddr, addrs)
	}
	http.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s\n", r.URL.Query().Get("n"))
	})
	http.HandleFunc("/data", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		buf := make([]byte, 65536)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		for n > 0 {
			k := n
			if k > len(buf) {
				k = len(buf)
			}
			w.Write(buf[:k])
			n -= k
		}
	})
	http.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "bye")
		go func() {
			time.Sleep(100 * time.Millisecond)
			fmt.Println("quitting")
			os.Exit(0)
		}()
	})
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		fmt.Println("listen error:", err)
		os.Exit(1)
	}
	fmt.Println("listening on", ln.Addr())
	if err := http.Serve(ln, nil); err != nil {
		fmt.Println("serve error:", err)
		os.Exit(1)
	}
}
