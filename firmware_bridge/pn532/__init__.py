"""NXP PN532 over a serial UART (HSU): frames → transport → driver → ISO 14443-4 APDU channel."""
