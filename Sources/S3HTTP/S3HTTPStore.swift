// S3HTTP: placeholder until the S3 client lands.
