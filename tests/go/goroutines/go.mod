module osprey/tests/goroutines

go 1.19
