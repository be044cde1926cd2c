//! An emulated ePages Beyond shop: the API subset epages-sync uses, for many shops at once,
//! with an admin API to register shops, inject faults and read a request journal.
