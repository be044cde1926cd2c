//! Ports: the traits through which the domain reads and writes state and queues.
