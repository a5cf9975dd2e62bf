/** The contract's input types. Lengths and formats are the domain's to check, not the schema's. */
import 'reflect-metadata';
import { Field, Float, InputType } from 'type-graphql';
import { TaskStatus } from './enums.js';
import { DateTimeScalar } from './scalars.js';

@InputType('CreateTaskInput')
export class CreateTaskInput {
  @Field(() => String) title!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => TaskStatus, { nullable: true }) status?: TaskStatus | null;
}

@InputType('UpdateTaskInput', { description: 'Only the fields given change; `description: null` clears it.' })
export class UpdateTaskInput {
  @Field(() => String, { nullable: true }) title?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => TaskStatus, { nullable: true }) status?: TaskStatus | null;
}

@InputType('ListingInput')
export class ListingInput {
  @Field(() => String) title!: string;
  @Field(() => String) url!: string;
  @Field(() => Float) price!: number;
  @Field(() => String) currency!: string;
  @Field(() => Float) priceEur!: number;
  @Field(() => DateTimeScalar) scrapedAt!: Date;
}
