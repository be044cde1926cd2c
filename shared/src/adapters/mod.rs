//! Adapters implementing the ports: `aws` (DynamoDB, SQS, Secrets Manager) and
//! `embedded` (in-process, file-backed).
