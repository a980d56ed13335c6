// Lets `node test/emulators/aws-ec2` start the emulator (a directory runs its index.js).
import './main.ts';
